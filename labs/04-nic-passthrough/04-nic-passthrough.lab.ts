// ---
// jupyter:
//   kernelspec:
//     display_name: TypeScript (labbook)
//     language: typescript
//     name: labbook-tslab
// ---

// %% [markdown]
// # Lab 04: NIC passthrough into a container
//
// In labs 01 and 02 a container sat behind its node: a private address on a bridge, and either **NAT**
// (MASQUERADE) or routes on every node to reach it. Some clouds do it differently. **QingCloud's SDN
// Passthrough** (and AWS's VPC CNI, in the same spirit) gives each container its **own NIC on the cloud network**:
// the container gets an address from the node's own subnet and is a first-class host on the LAN. There is no
// overlay, no per-node subnet, no route to maintain and no NAT: other machines see the container's real address.
//
// The lesson shows it with a NIC moved into a container's network namespace. Here the NIC is a **macvlan**: a
// virtual NIC stacked on the node's `eth0`, with a MAC address of its own, so that on the LAN it looks like one
// more machine plugged into the same switch.
//
// ```
//                  LAN 192.168.0.0/24 (switch: the "world" bridge, gateway 192.168.0.1)
//       ┌───────────────────────┬──────────────────────────────┬──────────────────────┐
//       │                       │                              │                      │
//   node1 eth0 .11          c1 eth1 .101 (macvlan on          node2 eth0 .12       node3 eth0 .13
//       │                   node1's eth0, own MAC)
//       └── docker0 172.17.0.1 ── c0 172.17.0.2   (behind NAT: seen as 192.168.0.11)
// ```
//
// First you will see what NAT looks like from node2, then pass a NIC through and see the difference.

// %% labbook={"id": "setup", "role": "setup"}
// Connect, and import the helpers: addContainer (lab 01's recipe), sh (prints and runs), capture (tcpdump)
import { cluster, check, hasRoute, addContainer, inContainer, sh, capture } from "labbook";

const c = await cluster({ fresh: true });
const [node1, node2, node3] = [c.node("node1"), c.node("node2"), c.node("node3")];

// %% [markdown]
// ## Before: a container behind NAT
//
// A Docker-style container `c0` on node1 (`172.17.0.2` behind `docker0`) with the MASQUERADE rule of lab 01.
// While it pings node2, `tcpdump` on node2's `eth0` shows who node2 thinks is talking.

// %% labbook={"id": "nat-baseline", "role": "step"}
// c0 behind docker0 and MASQUERADE; capture on node2 while c0 pings it
await addContainer(node1, { name: "c0", address: "172.17.0.2/16", bridge: "docker0", gateway: "172.17.0.1/16" });
await sh(node1, "sysctl -w net.ipv4.ip_forward=1");
await sh(node1, "iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE");
const natPackets = await capture(node2, { iface: node2.lanInterface, filter: "icmp[icmptype] = icmp-echo" }, () => inContainer(node1, "c0", "ping -c1 -W2 192.168.0.12"));

// %% labbook={"id": "check-nat", "role": "check"}
// Check: node2 saw node1's address, not the container's
await check("behind NAT, node2 sees the echo request come from node1 (192.168.0.11)", () => {
  const seen = natPackets.find((line) => line.includes("ICMP echo request"));
  if (!seen?.includes("192.168.0.11 > 192.168.0.12")) throw new Error(`captured: ${natPackets.join("\n") || "nothing"}`);
  return seen;
});

// %% [markdown]
// ## Passthrough: the lesson's commands
//
// The lesson starts a container with `docker run --network none` (only `lo` inside), links its network namespace
// under `/var/run/netns/`, then moves a NIC in. A named namespace made by `ip netns add c1` is exactly that: a
// network namespace with only `lo`, already under `/var/run/netns/`. The NIC is created on the node first and
// then moved:
//
//     ip link add eth1 link eth0 type macvlan mode bridge     # a new NIC on node1's LAN side
//     ip link set eth1 netns c1
//     ip netns exec c1 ip addr add 192.168.0.101/24 dev eth1
//     ip netns exec c1 ip link set dev eth1 up
//     ip netns exec c1 ip route add default via 192.168.0.1
//
// The cell below does the same with one change: it creates the NIC under a name of its own (`c1-eth1`), moves
// it, and renames it `eth1` inside c1. On a Vagrant VM the node's LAN interface is itself `eth1` (`eth0` is
// Vagrant's management NIC), so a second `eth1` cannot be created on the node, even for a moment. The parent is
// the node's LAN interface, whatever its name.
// `mode bridge` lets macvlan NICs on the same parent talk to each other directly.

// %% labbook={"id": "passthrough", "role": "step"}
// Create the macvlan NIC, move it into c1, and configure it there
for (const command of [
  "ip netns add c1",
  `ip link add c1-eth1 link ${node1.lanInterface} type macvlan mode bridge`,
  "ip link set c1-eth1 netns c1",
  "ip netns exec c1 ip link set c1-eth1 name eth1",
  "ip netns exec c1 ip addr add 192.168.0.101/24 dev eth1",
  "ip netns exec c1 ip link set dev eth1 up",
  "ip netns exec c1 ip link set dev lo up",
  "ip netns exec c1 ip route add default via 192.168.0.1",
  "ip netns exec c1 ip addr show eth1",
]) await sh(node1, command);

// %% labbook={"id": "check-passthrough", "role": "check"}
// Check: c1 is a host on the LAN, reaching node2 directly and seen with its own address
const c1Mac = (await node1.$`ip -n c1 -j link show eth1`).json<Array<{ address: string }>>()[0]!.address;
await check("c1's eth1 is a macvlan NIC with 192.168.0.101/24", async () => {
  const details = String(await node1.$`ip -n c1 -d addr show eth1`);
  if (!details.includes("macvlan mode bridge") || !details.includes("inet 192.168.0.101/24")) throw new Error(details);
  return `eth1 ${c1Mac}, macvlan mode bridge, 192.168.0.101/24`;
});
await check("c1's default route goes via 192.168.0.1", async () => {
  const route = String(await node1.$`ip -n c1 route show default`);
  if (!route.includes("via 192.168.0.1 dev eth1")) throw new Error(route || "(no default route)");
  return route.trim();
});
await check("c1 reaches the gateway 192.168.0.1", async () => {
  const ping = await inContainer(node1, "c1", "ping -c1 -W2 192.168.0.1");
  if (!ping.ok) throw new Error(ping.stdout);
  return "answered";
});
const directPackets = await capture(node2, { iface: node2.lanInterface, filter: "icmp[icmptype] = icmp-echo" }, () => inContainer(node1, "c1", "ping -c1 -W2 192.168.0.12"));
await check("node2 sees the echo request come from 192.168.0.101 itself: no NAT", () => {
  const seen = directPackets.find((line) => line.includes("ICMP echo request"));
  if (!seen?.includes("192.168.0.101 > 192.168.0.12")) throw new Error(`captured: ${directPackets.join("\n") || "nothing"}`);
  return seen;
});
await check("node2 reached 192.168.0.101 at c1's own MAC, not through node1", async () => {
  const neighbour = String(await node2.$`ip neigh show 192.168.0.101`);
  const node1Mac = (await node1.$`ip -j link show ${node1.lanInterface}`).json<Array<{ address: string }>>()[0]!.address;
  if (!neighbour.includes(c1Mac)) throw new Error(`node2's ARP entry: ${neighbour || "(none)"}; c1's MAC is ${c1Mac}`);
  if (neighbour.includes(node1Mac)) throw new Error(`node2 reaches .101 through node1's MAC ${node1Mac}`);
  return neighbour.trim();
});
await check("the path from c1 to node2 has no router in it", async () => {
  const path = String(await inContainer(node1, "c1", "ip route get 192.168.0.12"));
  if (path.includes(" via ")) throw new Error(path);
  return path.trim().split("\n")[0]!;
});

// %% [markdown]
// ## The catch: a macvlan NIC cannot talk to its own parent
//
// Traffic from a macvlan NIC to its parent's address is never looped back by the kernel: in bridge mode, macvlan
// NICs reach each other and the outside world, but not `eth0`'s own address. So `c1` cannot reach node1, the node
// it lives on. Cloud passthrough CNIs work around this with an extra route or a second interface.

// %% labbook={"id": "check-parent", "role": "check"}
// Check: c1 cannot reach node1's own address
await check("c1 cannot reach its own node, 192.168.0.11", async () => {
  const ping = await inContainer(node1, "c1", "ping -c1 -W1 192.168.0.11");
  if (ping.ok) throw new Error("node1 answered: this kernel loops macvlan traffic back to the parent");
  return "no answer, as macvlan's bridge mode promises";
});

// %% [markdown]
// ## Exercise: a second passthrough container
//
// On **node3**, give a new container namespace `c2` a macvlan NIC `eth1` on node3's LAN interface, with address
// **`192.168.0.103/24`** and a default route via `192.168.0.1`. Then `c1` (on node1) and `c2` (on node3) must reach
// each other directly, and node2 must see `c2`'s own address.

// %% labbook={"id": "exercise-c2", "role": "exercise", "points": 3}
// Your turn: the passthrough commands, on node3, for c2 with 192.168.0.103/24
// await sh(node3, "ip netns add c2");

// %% labbook={"id": "solution-c2", "role": "solution", "points": 3}
// Solution
for (const command of [
  "ip netns add c2",
  `ip link add c2-eth1 link ${node3.lanInterface} type macvlan mode bridge`,
  "ip link set c2-eth1 netns c2",
  "ip netns exec c2 ip link set c2-eth1 name eth1",
  "ip netns exec c2 ip addr add 192.168.0.103/24 dev eth1",
  "ip netns exec c2 ip link set dev eth1 up",
  "ip netns exec c2 ip route add default via 192.168.0.1",
]) await sh(node3, command);

// %% [raw] labbook={"id": "grader-setup", "role": "grader-setup"}
// // Grader setup: hidden checks run in a fresh kernel when grading, on the cluster the cells above built
// import { cluster, check, inContainer, capture } from "labbook";
// const c = await cluster();
// const [node1, node2, node3] = [c.node("node1"), c.node("node2"), c.node("node3")];

// %% labbook={"id": "hidden-c2", "role": "hidden-check", "hint": "c2 must be on node3 with its own macvlan NIC at 192.168.0.103/24, reachable without NAT."}
// Hidden check: c2 on node3 is a passthrough container reached directly
await check("c2 on node3 has a macvlan eth1 with 192.168.0.103/24 and a default route via 192.168.0.1", async () => {
  const details = String(await node3.$`ip -n c2 -d addr show eth1`);
  const route = String(await node3.$`ip -n c2 route show default`);
  if (!details.includes("macvlan") || !details.includes("inet 192.168.0.103/24") || !route.includes("via 192.168.0.1")) throw new Error(`${details}\n${route}`);
  return "as specified";
}, { points: 1 });
await check("c1 and c2 reach each other", async () => {
  for (const [node, from, target] of [[node1, "c1", "192.168.0.103"], [node3, "c2", "192.168.0.101"]] as const) {
    const ping = await inContainer(node, from, `ping -c1 -W2 ${target}`);
    if (!ping.ok) throw new Error(`${from} -> ${target}: ${ping.stdout}`);
  }
  return "both ways";
}, { points: 1 });
const c2Packets = await capture(node2, { iface: node2.lanInterface, filter: "icmp[icmptype] = icmp-echo" }, () => inContainer(node3, "c2", "ping -c1 -W2 192.168.0.12"));
await check("node2 sees c2's own address, 192.168.0.103", () => {
  if (!c2Packets.some((line) => line.includes("192.168.0.103 > 192.168.0.12"))) throw new Error(`captured: ${c2Packets.join("\n") || "nothing"}`);
  return "no NAT";
}, { points: 1 });

// %% [markdown]
// ## Passthrough compared
//
// | | bridge + NAT (lab 01) | routes (lab 02) | passthrough (this lab) |
// |---|---|---|---|
// | container address | private, per node | private, per-node subnet | from the LAN itself |
// | others see | the node's address | the container's | the container's |
// | needs on other hosts | nothing | a route per node | nothing |
// | limit | ports must be published | routes to maintain | addresses on the LAN, MACs per NIC, no talk to the parent |
