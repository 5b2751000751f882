// The stand-in internet (network.internet): a web server at a documentation address in the
// world namespace, behind the gateway. It answers the LAN, not pods without NAT, and it goes
// away with its cluster.
import assert from "node:assert/strict";
import { NetnsBackend } from "../../../runner/backend/netns/driver.ts";
import { processesMarked } from "../../../runner/host/procfs.ts";
import { markerFor } from "../../../runner/host/state.ts";
import { upTestCluster } from "../../helpers/cluster.ts";

const backend = new NetnsBackend();

describe("netns backend: the stand-in internet", function () {
  it("answers a node with the address it saw, ignores a pod without NAT, and answers it with NAT", async () => {
    const cluster = await upTestCluster({ backend });
    const node1 = cluster.node("node1");
    try {
      // Labs ask for it by capability (lab 08's egress steps): the embedded cluster has it.
      assert.equal(cluster.has("internet"), true);
      // Started detached during up: give it the moment Python needs to listen.
      let answer = "";
      for (let i = 0; i < 40 && !answer; i++) {
        answer = (await node1.$({ nothrow: true })`curl -s -m 1 http://203.0.113.10/`).stdout.trim();
        if (!answer) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(answer, "internet 203.0.113.10: hello, 192.168.0.11");
      assert.equal((await node1.$({ nothrow: true })`ping -c1 -W1 203.0.113.10`).ok, true);

      await node1.$`ip netns add pod && ip link add veth-pod type veth peer name eth0 netns pod`;
      await node1.$`ip addr add 10.9.0.1/24 dev veth-pod && ip link set veth-pod up && sysctl -qw net.ipv4.ip_forward=1`;
      await node1.$`ip -n pod addr add 10.9.0.2/24 dev eth0 && ip -n pod link set eth0 up && ip -n pod route add default via 10.9.0.1`;
      const withoutNat = await node1.$({ nothrow: true })`ip netns exec pod curl -s -m 1 http://203.0.113.10/`;
      assert.equal(withoutNat.ok, false, `a pod's own address got an answer: ${withoutNat.stdout}`);
      await node1.$`iptables -t nat -A POSTROUTING -s 10.9.0.0/24 -j MASQUERADE`;
      assert.equal(String(await node1.$`ip netns exec pod curl -s -m 1 http://203.0.113.10/`), "internet 203.0.113.10: hello, 192.168.0.11");
    } finally {
      await cluster.down();
    }
    assert.deepEqual(processesMarked((m) => m === markerFor(cluster.name)), [], "the internet server outlived its cluster");
  });
});
