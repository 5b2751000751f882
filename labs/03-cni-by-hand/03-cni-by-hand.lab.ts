// ---
// jupyter:
//   kernelspec:
//     display_name: TypeScript (labbook)
//     language: typescript
//     name: labbook-tslab
// ---

// %% [markdown]
// # Lab 03: CNI by hand
//
// Kubernetes does not wire pods itself. When the kubelet starts a pod, the container runtime calls a
// **CNI plugin** (Container Network Interface). The contract is small:
//
// - a **plugin** is an executable, found in `CNI_PATH` (Debian installs the reference plugins in `/usr/lib/cni`);
// - the **network configuration** (JSON, normally in `/etc/cni/net.d/`) arrives on **stdin**;
// - the call's parameters arrive in **environment variables**: `CNI_COMMAND` (`ADD`, `CHECK`, `DEL`, `VERSION`),
//   `CNI_CONTAINERID`, `CNI_NETNS` (the container's network namespace), `CNI_IFNAME` (the interface to create
//   inside it) and `CNI_PATH`;
// - the **result** (interfaces, addresses, routes) comes back as JSON on **stdout**.
//
// An *interface plugin* such as `bridge` builds the plumbing, and delegates addresses to an *IPAM plugin* such as
// `host-local`, which hands them out from a subnet and remembers them in `/var/lib/cni/networks/<name>/`.
//
// ```
//  node1                      stdin: 10-mynet.conf          exec, same stdin
//   runtime (here: you) ──▶  /usr/lib/cni/bridge  ─────────▶  /usr/lib/cni/host-local
//   CNI_COMMAND=ADD ...        creates cni0 10.22.0.1/16       picks 10.22.0.2 from 10.22.0.0/16,
//                              and a veth pair, moves          writes /var/lib/cni/networks/mynet/10.22.0.2
//                              one end into the netns
//   ┌──── netns ctr1 ─────────┐
//   │ eth0 10.22.0.2/16       │──veth──▶ cni0 10.22.0.1 (isGateway) ──▶ eth0 192.168.0.11 ──▶ LAN
//   │ default via 10.22.0.1   │          ipMasq: POSTROUTING MASQUERADE for 10.22.0.2
//   └─────────────────────────┘
// ```
//
// You will play the container runtime: create the namespaces, call the plugin with `ADD`, `CHECK` and `DEL`, and
// check what it did.

// %% labbook={"id": "setup", "role": "setup"}
// Connect; this lab's cni() (cni.ts) calls a plugin exactly as a runtime does, and prints the command line
import { cluster, check, hasRule, fileContains, sh, keepForGrader } from "labbook";
import { cni } from "./cni.js";

const c = await cluster({ fresh: true });
const [node1, node2] = [c.node("node1"), c.node("node2")];
await sh(node1, "ls /usr/lib/cni");

// %% [markdown]
// ## The network configuration
//
// This is the lesson's `10-mynet.conf`: a `bridge` named `cni0` that is the containers' gateway (`isGateway`) and
// masquerades their traffic (`ipMasq`), with `host-local` IPAM on `10.22.0.0/16` and a default route.
//
// One change: the lesson's file says `"cniVersion": "0.2.0"`. `CHECK` was added to the spec in version 0.4.0,
// and a plugin refuses `CHECK` for an older config, so this lab uses `"0.4.0"`. Everything else is the lesson's.
// The plugin's `VERSION` command lists the versions it speaks.
//
// Each node has its own `/etc/cni/net.d` and `/var/lib/cni`, as a real machine would.

// %% labbook={"id": "write-config", "role": "step"}
// Write /etc/cni/net.d/10-mynet.conf on node1, and ask the plugin which spec versions it supports
const mynet = {
  cniVersion: "0.4.0",
  name: "mynet",
  type: "bridge",
  bridge: "cni0",
  isGateway: true,
  ipMasq: true,
  ipam: { type: "host-local", subnet: "10.22.0.0/16", routes: [{ dst: "0.0.0.0/0" }] },
};
const MYNET = "/etc/cni/net.d/10-mynet.conf";
await node1.$({ input: JSON.stringify(mynet, null, 2) + "\n" })`cat > ${MYNET}`;
await sh(node1, `cat ${MYNET}`);
await cni(node1, { command: "VERSION", config: MYNET, containerId: "none", netns: "none" });

// %% [markdown]
// ## ADD: attach a container
//
// A runtime first creates the container's network namespace, then calls `ADD`. Here the "container" is a named
// network namespace, `ctr1`.

// %% labbook={"id": "add-ctr1", "role": "step"}
// ip netns add ctr1, then CNI_COMMAND=ADD
await sh(node1, "ip netns add ctr1");
const added = await cni(node1, { command: "ADD", config: MYNET, containerId: "ctr1", netns: "ctr1" });
const ctr1Address = String((added.json.ips as Array<{ address: string }>)[0]!.address).split("/")[0]!;
keepForGrader("ctr1-add-result", added.json); // the grader runs CHECK with it, in a kernel of its own

// %% labbook={"id": "check-add", "role": "check"}
// Check: the result, the interface and route inside the netns, the bridge, the lease and the masquerade rule
await check("the result gives an address in 10.22.0.0/16 and the gateway 10.22.0.1", () => {
  const ip = (added.json.ips as Array<{ address: string; gateway: string }>)[0]!;
  if (!/^10\.22\.\d+\.\d+\/16$/.test(ip.address)) throw new Error(`address ${ip.address} is not in 10.22.0.0/16`);
  if (ip.gateway !== "10.22.0.1") throw new Error(`gateway is ${ip.gateway}`);
  return `ips[0]: ${ip.address}, gateway ${ip.gateway}`;
});
await check("ctr1 has eth0 with that address", async () => {
  const eth0 = String(await node1.$`ip -n ctr1 -br addr show eth0`);
  if (!eth0.includes(`${ctr1Address}/16`)) throw new Error(eth0);
  return eth0.trim();
});
await check("ctr1's default route goes via 10.22.0.1 on eth0", async () => {
  const route = String(await node1.$`ip -n ctr1 route show default`);
  if (!route.includes("via 10.22.0.1 dev eth0")) throw new Error(`ip route: ${route || "(no default route)"}`);
  return route.trim();
});
await check("cni0 holds the gateway address (isGateway)", async () => {
  const bridge = String(await node1.$`ip -br addr show cni0`);
  if (!bridge.includes("10.22.0.1/16")) throw new Error(bridge);
  return bridge.trim();
});
await check("host-local recorded the lease for ctr1", () => fileContains(node1, `/var/lib/cni/networks/mynet/${ctr1Address}`, "ctr1"));
await check("ipMasq added a MASQUERADE rule for ctr1", () => hasRule(node1, "nat", "POSTROUTING", `-s ${ctr1Address}/32`));
await check("ctr1 reaches its gateway and, masqueraded, node2", async () => {
  for (const target of ["10.22.0.1", "192.168.0.12"]) {
    const ping = await node1.$({ nothrow: true })`ip netns exec ctr1 ping -c1 -W2 ${target}`;
    if (!ping.ok) throw new Error(`no answer from ${target}: ${ping.stdout}`);
  }
  return "10.22.0.1 and 192.168.0.12 answer";
});

// %% [markdown]
// ## CHECK: is the container still wired as ADD left it?
//
// A runtime calls `CHECK` with the config plus ADD's result as `prevResult`. The plugin compares the result with
// the real state and fails if they differ. Below, CHECK passes; then the address is removed from `eth0` behind
// the plugin's back, CHECK reports it, and putting the address back heals it.

// %% labbook={"id": "check-ctr1", "role": "step"}
// CNI_COMMAND=CHECK, before and after damaging the container's interface
const healthy = await cni(node1, { command: "CHECK", config: MYNET, containerId: "ctr1", netns: "ctr1", prevResult: added.json });
await sh(node1, "ip -n ctr1 addr flush dev eth0");
const damaged = await cni(node1, { command: "CHECK", config: MYNET, containerId: "ctr1", netns: "ctr1", prevResult: added.json, nothrow: true });
await sh(node1, `ip -n ctr1 addr add ${ctr1Address}/16 dev eth0`);
await sh(node1, "ip -n ctr1 route add default via 10.22.0.1");
const healed = await cni(node1, { command: "CHECK", config: MYNET, containerId: "ctr1", netns: "ctr1", prevResult: added.json, nothrow: true });

// %% labbook={"id": "check-check", "role": "check"}
// Check: CHECK passed, then failed naming the missing address, then passed again
await check("CHECK passes on a freshly added container", () => healthy.ok);
await check("CHECK fails once the address is gone, and says which", () => {
  if (damaged.ok) throw new Error("CHECK passed although eth0 had no address");
  return String(damaged.json.msg);
});
await check("CHECK passes again after the address and route are restored", () => {
  if (!healed.ok) throw new Error(String(healed.json.msg));
  return "ok";
});

// %% [markdown]
// ## A second container
//
// `host-local` never gives one address twice: it keeps a file per lease and remembers the last one it handed out.

// %% labbook={"id": "add-ctr2", "role": "step"}
// A second container, ctr2, on the same network
await sh(node1, "ip netns add ctr2");
const added2 = await cni(node1, { command: "ADD", config: MYNET, containerId: "ctr2", netns: "ctr2" });
const ctr2Address = String((added2.json.ips as Array<{ address: string }>)[0]!.address).split("/")[0]!;
await sh(node1, "ls /var/lib/cni/networks/mynet");

// %% labbook={"id": "check-two", "role": "check"}
// Check: two distinct addresses, and the containers reach each other over cni0
await check("ctr1 and ctr2 got distinct addresses in 10.22.0.0/16", () => {
  if (ctr1Address === ctr2Address) throw new Error(`both got ${ctr1Address}`);
  if (!ctr2Address.startsWith("10.22.")) throw new Error(`ctr2 got ${ctr2Address}`);
  return `ctr1 ${ctr1Address}, ctr2 ${ctr2Address}`;
});
await check("ctr1 reaches ctr2 across the bridge", async () => {
  const ping = await node1.$({ nothrow: true })`ip netns exec ctr1 ping -c1 -W2 ${ctr2Address}`;
  if (!ping.ok) throw new Error(ping.stdout);
  return `${ctr2Address} answers`;
});

// %% [markdown]
// ## DEL: detach a container
//
// When a pod stops, the runtime calls `DEL` with the same parameters. The plugin removes the interface, the IPAM
// plugin releases the address, and the masquerade rules go. DEL must also succeed when there is nothing left to
// delete, because a runtime may call it twice.

// %% labbook={"id": "del-ctr2", "role": "step"}
// CNI_COMMAND=DEL for ctr2, twice
await cni(node1, { command: "DEL", config: MYNET, containerId: "ctr2", netns: "ctr2" });
const again = await cni(node1, { command: "DEL", config: MYNET, containerId: "ctr2", netns: "ctr2", nothrow: true });

// %% labbook={"id": "check-del", "role": "check"}
// Check: the interface, the lease and the rules are gone; ctr1 is untouched
await check("ctr2 has no eth0 any more", async () => {
  const links = String(await node1.$`ip -n ctr2 -br link`);
  if (links.includes("eth0")) throw new Error(links);
  return links.trim();
});
await check("only ctr1's veth is left on cni0", async () => {
  const ports = (await node1.$`ip -br link show master cni0`).lines();
  if (ports.length !== 1) throw new Error(`cni0's ports:\n${ports.join("\n")}`);
  return ports[0]!;
});
await check("host-local released ctr2's address", async () => {
  const leases = (await node1.$`ls /var/lib/cni/networks/mynet`).lines();
  if (leases.includes(ctr2Address)) throw new Error(`still leased: ${leases.join(" ")}`);
  return `leases now: ${leases.join(" ")}`;
});
await check("no rule mentions ctr2's address", async () => {
  const rules = String(await node1.$`iptables -t nat -S`);
  if (rules.includes(ctr2Address)) throw new Error(rules);
  return "none";
});
await check("a second DEL succeeds: there is nothing left to delete", () => again.ok || String(again.json.msg));

// %% [markdown]
// ## Exercise: a second network
//
// Write a second network configuration, `/etc/cni/net.d/20-othernet.conf` on node1: a network named `othernet` on a
// bridge `cni1`, gateway and masquerade as before, with `host-local` addresses from **`10.23.0.0/16`** and a default
// route. Then attach a new container namespace `ctr3` to it with `ADD` (interface `eth0`).
//
// `mynet` and `ctr1` must keep working.

// %% labbook={"id": "exercise-othernet", "role": "exercise", "points": 4}
// Your turn: write 20-othernet.conf, create the netns ctr3, and call ADD
// const othernet = { ... };
// await node1.$({ input: JSON.stringify(othernet) })`cat > /etc/cni/net.d/20-othernet.conf`;
// await sh(node1, "ip netns add ctr3");
// await cni(node1, { command: "ADD", ... });

// %% labbook={"id": "solution-othernet", "role": "solution", "points": 4}
// Solution
const othernet = { ...mynet, name: "othernet", bridge: "cni1", ipam: { type: "host-local", subnet: "10.23.0.0/16", routes: [{ dst: "0.0.0.0/0" }] } };
await node1.$({ input: JSON.stringify(othernet, null, 2) + "\n" })`cat > /etc/cni/net.d/20-othernet.conf`;
await sh(node1, "ip netns add ctr3");
await cni(node1, { command: "ADD", config: "/etc/cni/net.d/20-othernet.conf", containerId: "ctr3", netns: "ctr3" });

// %% [raw] labbook={"id": "grader-setup", "role": "grader-setup"}
// // Grader setup: hidden checks run in a fresh kernel when grading, on the cluster the cells above built
// import { cluster, check, keptForGrader } from "labbook";
// import { cni } from "./cni.js";
// const c = await cluster();
// const node1 = c.node("node1");
// const MYNET = "/etc/cni/net.d/10-mynet.conf";
// // ctr1's ADD result, which CHECK takes as prevResult: kept by the step that called ADD
// const added = { json: keptForGrader<Record<string, unknown>>("ctr1-add-result") };

// %% labbook={"id": "hidden-othernet", "role": "hidden-check", "hint": "othernet must be a separate bridge network (cni1, 10.23.0.0/16) with ctr3 attached, and mynet must keep working."}
// Hidden check: the second network exists as specified, ctr3 is on it, and mynet still works
await check("20-othernet.conf is a bridge network named othernet on cni1 with 10.23.0.0/16", async () => {
  const conf = (await node1.$`cat /etc/cni/net.d/20-othernet.conf`).json<{ name: string; type: string; bridge: string; ipam: { subnet: string } }>();
  if (conf.name !== "othernet" || conf.type !== "bridge" || conf.bridge !== "cni1" || conf.ipam?.subnet !== "10.23.0.0/16") throw new Error(JSON.stringify(conf));
  return "as specified";
}, { points: 1 });
await check("ctr3 has an address in 10.23.0.0/16 and a default route via 10.23.0.1", async () => {
  const address = String(await node1.$`ip -n ctr3 -br addr show eth0`);
  const route = String(await node1.$`ip -n ctr3 route show default`);
  if (!/ 10\.23\.\d+\.\d+\/16/.test(address) || !route.includes("via 10.23.0.1")) throw new Error(`${address}${route}`);
  return address.trim();
}, { points: 1 });
await check("host-local leased ctr3's address from othernet and ctr3 reaches its gateway", async () => {
  const leases = String(await node1.$`grep -l ctr3 /var/lib/cni/networks/othernet/*`);
  const ping = await node1.$({ nothrow: true })`ip netns exec ctr3 ping -c1 -W2 10.23.0.1`;
  if (!ping.ok) throw new Error(ping.stdout);
  return leases.trim();
}, { points: 1 });
await check("mynet is intact: ctr1 still passes CHECK and reaches node2", async () => {
  const result = await cni(node1, { command: "CHECK", config: MYNET, containerId: "ctr1", netns: "ctr1", prevResult: added.json, nothrow: true });
  if (!result.ok) throw new Error(String(result.json.msg));
  const ping = await node1.$({ nothrow: true })`ip netns exec ctr1 ping -c1 -W2 192.168.0.12`;
  if (!ping.ok) throw new Error(ping.stdout);
  return "ok";
}, { points: 1 });

// %% [markdown]
// ## What Kubernetes adds
//
// The kubelet (through containerd or CRI-O) does exactly this for every pod: it reads the first config in
// `/etc/cni/net.d`, calls `ADD` when the pod sandbox starts and `DEL` when it stops. The bridge plugin only connects
// containers on one node; reaching pods on other nodes needs routes (lab 02) or an overlay such as Flannel (lab 05),
// whose CNI plugin delegates to this same `bridge` plugin.
