// ---
// jupyter:
//   kernelspec:
//     display_name: TypeScript (labbook)
//     language: typescript
//     name: labbook-tslab
// ---

// %% [markdown]
// # Lab 02: Cross-host container routes by hand
//
// A container network must solve two problems once it spans several hosts:
// - **address allocation**: containers on different hosts must not get the same address;
// - **forwarding between hosts**: a packet for a container on another host must get to that host.
//
// Here each node gets its own container subnet, as in the lesson, and plain routes do the forwarding:
//
// ```
//  node1 192.168.0.11                         node2 192.168.0.12
//    docker0 172.17.0.1/16                      docker0 172.18.0.1/16
//    c1 172.17.0.2  ──route 172.18.0.0/16 via 192.168.0.12──▶  c1 172.18.0.2
//                   ◀──route 172.17.0.0/16 via 192.168.0.11──
// ```
//
// No NAT is involved: the packet keeps its container addresses end to end.

// %% labbook={"id": "setup", "role": "setup"}
// Connect, and give node1 and node2 a container each, on their own subnets
import { cluster, check, hasRoute, addContainer, inContainer } from "labbook";

const c = await cluster({ fresh: true });
const [node1, node2] = [c.node("node1"), c.node("node2")];
// The exercise adds node3; a smaller cluster (two VMs, say) skips it.
const node3 = c.nodes.find((n) => n.name === "node3")!;
await addContainer(node1, { name: "c1", address: "172.17.0.2/16", bridge: "docker0", gateway: "172.17.0.1/16" });
await addContainer(node2, { name: "c1", address: "172.18.0.2/16", bridge: "docker0", gateway: "172.18.0.1/16" });

// %% labbook={"id": "check-before", "role": "check"}
// Check: without routes, node1's container cannot reach node2's
await check("before any route, node1/c1 cannot reach 172.18.0.2", async () => {
  const ping = await inContainer(node1, "c1", "ping -c1 -W1 172.18.0.2");
  if (ping.ok) throw new Error("it answered: something already routes between the subnets");
  return "no answer, as expected: node1 sends 172.18.0.0/16 to its default gateway, which routes nowhere";
});

// %% [markdown]
// ## The routes
//
// Each node must forward packets (`ip_forward=1`, `FORWARD` policy ACCEPT), and must know which node
// holds the other subnet. These are the lesson's commands:
//
//     # node1
//     iptables -P FORWARD ACCEPT
//     ip route add 172.18.0.0/16 via 192.168.0.12
//     # node2
//     iptables -P FORWARD ACCEPT
//     ip route add 172.17.0.0/16 via 192.168.0.11

// %% labbook={"id": "routes", "role": "step"}
// Forwarding and a route on each node
for (const node of [node1, node2]) {
  await node.$`sysctl -w net.ipv4.ip_forward=1`;
  await node.$`iptables -P FORWARD ACCEPT`;
}
await node1.$`ip route add 172.18.0.0/16 via 192.168.0.12`;
await node2.$`ip route add 172.17.0.0/16 via 192.168.0.11`;
console.log(String(await node1.$`ip route get 172.18.0.2`));

// %% labbook={"id": "check-after", "role": "check"}
// Check: the route is there, and container reaches container
await check("node1 routes 172.18.0.0/16 via node2", () => hasRoute(node1, "172.18.0.0/16", { via: "192.168.0.12", dev: node1.lanInterface }));
await check("ip route get shows node2 as the next hop", async () => {
  const path = String(await node1.$`ip route get 172.18.0.2`);
  if (!path.includes(`via 192.168.0.12 dev ${node1.lanInterface}`)) throw new Error(`ip route get says: ${path}`);
  return path.split("\n")[0]!;
});
await check("node1/c1 reaches node2/c1 (172.18.0.2) with no NAT", async () => {
  const ping = await inContainer(node1, "c1", "ping -c1 -W2 172.18.0.2");
  if (!ping.ok) throw new Error(ping.stdout + ping.stderr);
  // Two routers on the way (node1, node2) each take one from the TTL of 64.
  const ttl = /ttl=(\d+)/.exec(ping.stdout)?.[1];
  return `answered with ttl=${ttl}`;
}, { within: 3000 });

// %% [markdown]
// ## Exercise: a third node
//
// Give **node3** a container `c1` at `172.19.0.2/16` behind its own `docker0` (`172.19.0.1/16`), and
// write the routes so that all three containers reach each other. node3 needs forwarding and routes to
// both other subnets, and node1 and node2 each need a route to `172.19.0.0/16`.

// %% labbook={"id": "exercise-node3", "role": "exercise", "points": 3, "requires": ["node:node3"]}
// Your turn: node3's container, forwarding, and the routes on all three nodes
// await addContainer(node3, { ... });
// await node3.$`...`;

// %% labbook={"id": "solution-node3", "role": "solution", "points": 3, "requires": ["node:node3"]}
// Solution
await addContainer(node3, { name: "c1", address: "172.19.0.2/16", bridge: "docker0", gateway: "172.19.0.1/16" });
await node3.$`sysctl -w net.ipv4.ip_forward=1`;
await node3.$`iptables -P FORWARD ACCEPT`;
await node3.$`ip route add 172.17.0.0/16 via 192.168.0.11`;
await node3.$`ip route add 172.18.0.0/16 via 192.168.0.12`;
await node1.$`ip route add 172.19.0.0/16 via 192.168.0.13`;
await node2.$`ip route add 172.19.0.0/16 via 192.168.0.13`;

// %% [raw] labbook={"id": "grader-setup", "role": "grader-setup", "requires": ["node:node3"]}
// // Grader setup: hidden checks run in a fresh kernel when grading, on the cluster the cells above built
// import { cluster, check, inContainer } from "labbook";
// const c = await cluster();
// const [node1, node2, node3] = [c.node("node1"), c.node("node2"), c.node("node3")];

// %% labbook={"id": "hidden-node3", "role": "hidden-check", "hint": "Every container must reach every other one, in both directions.", "requires": ["node:node3"]}
// Hidden check: node3's container reaches both others, and they reach it
for (const [from, target] of [[node3, "172.17.0.2"], [node3, "172.18.0.2"], [node1, "172.19.0.2"], [node2, "172.19.0.2"]] as const) {
  await check(`${from.name}/c1 reaches ${target}`, async () => {
    const ping = await inContainer(from, "c1", `ping -c1 -W2 ${target}`);
    if (!ping.ok) throw new Error(ping.stdout + ping.stderr);
    return "answered";
  }, { within: 3000, points: 1 });
}

// %% [markdown]
// ## Why this does not scale
//
// Every node needs a route for every other node's subnet, and someone must hand out the subnets. Flannel
// (lab 05) automates both: it leases subnets from etcd and programs the routes or tunnels.
