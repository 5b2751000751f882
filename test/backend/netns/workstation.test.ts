// A workstation on a cluster's LAN (what a sandboxed kernel gets): an address of the LAN, no way beyond
// it, and no trace on the LAN once it is gone; in particular the gateway keeps its MAC, which a Linux
// bridge would otherwise take from its lowest port (lab 08's egress check found this, now and then).
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { LAN_BRIDGE_MAC, NetnsBackend } from "../../../runner/backend/netns/driver.ts";
import { readState } from "../../../runner/host/state.ts";
import type { Cluster } from "../../../runner/cluster/cluster.ts";
import { suiteCluster } from "../../helpers/cluster.ts";

const backend = new NetnsBackend();

function inWorld(cluster: Cluster, ...args: string[]): string {
  return execFileSync("nsenter", ["-t", String(readState(cluster.name)!.world!.pid), "-n", ...args], { encoding: "utf8" }).trim();
}

/** The gateway's MAC: the LAN bridge's, in the cluster's world. */
function gatewayMac(cluster: Cluster): string {
  return (JSON.parse(inWorld(cluster, "ip", "-j", "link", "show", "lan0")) as Array<{ address: string }>)[0]!.address;
}

describe("a workstation on a cluster's LAN", function () {
  this.timeout(60_000);
  const lanOf = suiteCluster({ backend });

  it("gets the LAN's highest free address and reaches the nodes, and nothing past the LAN", async () => {
    const cluster = lanOf();
    const laptop = spawn("unshare", ["--net", "sleep", "60"], { stdio: "ignore" });
    try {
      await new Promise((resolve) => setTimeout(resolve, 100)); // unshare has made the namespace and become sleep
      const lan = await backend.plugWorkstation(cluster.name, laptop.pid!);
      assert.deepEqual(Object.keys(lan.hostKeys).sort(), ["node1", "node2", "node3"]);
      const inLaptop = (...args: string[]) => execFileSync("nsenter", ["-t", String(laptop.pid), "-n", ...args], { encoding: "utf8" }).trim();
      assert.match(inLaptop("ip", "-br", "-4", "addr", "show", "eth0"), /192\.168\.0\.254\/24/);
      assert.match(inLaptop("ping", "-c1", "-W2", "192.168.0.11"), /1 received/);
      assert.equal(inLaptop("ip", "route", "show", "default"), "", "a workstation has a default route");
    } finally {
      laptop.kill("SIGKILL");
    }
  });

  it("leaves the gateway's MAC alone while workstations come and go, so the nodes' egress keeps working", async () => {
    const cluster = lanOf();
    const node1 = cluster.node("node1");
    await node1.$`curl -sS -m 2 -o /dev/null http://203.0.113.10/`; // node1 learns the gateway's MAC now
    assert.equal(gatewayMac(cluster), LAN_BRIDGE_MAC);
    const laptop = spawn("unshare", ["--net", "sleep", "60"], { stdio: "ignore" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await backend.plugWorkstation(cluster.name, laptop.pid!);
    // The lowest MAC there is: a bridge that took its lowest port's MAC would take this one.
    inWorld(cluster, "ip", "link", "set", `ws${laptop.pid}`.slice(0, 15), "address", "00:00:00:00:00:01");
    assert.equal(gatewayMac(cluster), LAN_BRIDGE_MAC);
    laptop.kill("SIGKILL");
    await new Promise((resolve) => laptop.once("exit", resolve));
    assert.equal(gatewayMac(cluster), LAN_BRIDGE_MAC);
    const neighbour = String(await node1.$`ip neigh show 192.168.0.1`);
    assert.match(neighbour, new RegExp(`lladdr ${LAN_BRIDGE_MAC}`), `node1's ARP cache: ${neighbour}`);
    await node1.$`curl -sS -m 2 -o /dev/null http://203.0.113.10/`;
  });
});
