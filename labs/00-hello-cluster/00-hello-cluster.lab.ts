// ---
// jupyter:
//   kernelspec:
//     display_name: TypeScript (labbook)
//     language: typescript
//     name: labbook-tslab
// ---

// %% [markdown]
// # Lab 00: Hello, cluster
//
// Every lab in this course runs on a small cluster of three Linux machines joined by one LAN:
//
// ```
//                  LAN 192.168.0.0/24 (gateway 192.168.0.1, which routes nowhere)
//       ┌──────────────────────┬──────────────────────┐
//   node1 192.168.0.11     node2 192.168.0.12     node3 192.168.0.13
// ```
//
// With Vagrant the machines are VMs. Without it they are **Linux namespaces**, one set per node: its own
// network stack (`eth0`, routes, iptables), its own mount table, host name and process table, and a real
// `sshd`. Either way, every command below really runs on the node it names.
//
// How a lab works:
// - a **code cell** runs TypeScript. In it, `node1.$` followed by a command in backticks runs that command on node1, like `ssh node1 ...` would;
// - a **check** states what must now be true, and shows a green or red badge. In CI the same checks decide
//   whether the lab passed.
//
// Run the cells from top to bottom (Shift+Enter).

// %% labbook={"id": "connect", "role": "setup"}
// Connect to the cluster (labbook run starts a fresh one; in Jupyter: the one from `labbook up`, rebuilt clean)
import { cluster, check, reaches, hasRoute, fileContains } from "labbook";

const c = await cluster({ fresh: true });
const [node1, node2, node3] = c.nodes;
console.log(c.nodes.map((n) => `${n.name}  ${n.ip}  roles: ${n.roles.join(", ")}`).join("\n"));

// %% [markdown]
// ## One command, every node
//
// `c.all.$` runs the same command on every node at once. Each node reports its own host name and its
// own address on its LAN interface (`eth0` here; `eth1` on Vagrant VMs, whose `eth0` is Vagrant's own): they are
// separate machines.

// %% labbook={"id": "hostnames", "role": "step"}
// Ask every node who it is
for (const r of await c.all.$`echo "$(hostname): $(ip -br -4 addr show to ${c.topology.network.cidr})"`) console.log(r.stdout.trim());

// %% labbook={"id": "check-hostnames", "role": "check"}
// Check: each node is who it says it is
for (const node of c.nodes) {
  await check(`${node.name} reports its own host name`, async () => {
    const name = String(await node.$`hostname`);
    if (name !== node.name) throw new Error(`it says "${name}"`);
    return `hostname is ${name}`;
  });
}

// %% [markdown]
// ## The LAN
//
// The nodes share one layer-2 network. A node reaches the others directly, and sends everything else
// to its default gateway (192.168.0.1 on the embedded cluster; on Vagrant VMs, Vagrant's management network on
// `eth0`). Look at `ip route` on node1: one route for the LAN, one default.

// %% labbook={"id": "routes", "role": "step"}
// node1's routing table
console.log(String(await node1.$`ip route`));

// %% labbook={"id": "check-lan", "role": "check"}
// Check: the LAN works
await check(`node1 routes the LAN ${c.topology.network.cidr} on its LAN interface, ${node1.lanInterface}`, () => hasRoute(node1, c.topology.network.cidr, { dev: node1.lanInterface }));
await check("node1 has a default route", () => hasRoute(node1, "0.0.0.0/0"));
await check("node1 reaches node2", () => reaches(node1, node2.ip), { within: 5000 });
await check("node1 reaches node3 by name", () => reaches(node1, "node3"), { within: 5000 });
await check("/etc/hosts names every node", () => fileContains(node1, "/etc/hosts", `${node3.ip}\tnode3`));

// %% [markdown]
// ## Node to node
//
// Nodes trust each other's SSH keys, as machines in a real cluster do. From node1, `ssh node2` runs a
// command on node2.

// %% labbook={"id": "ssh-step", "role": "step"}
// node1 asks node2 for its host name over ssh
console.log(String(await node1.$`ssh node2 hostname`));

// %% labbook={"id": "check-ssh", "role": "check"}
// Check: ssh from node1 lands on node2
await check("ssh node2 from node1 lands on node2", async () => {
  const answer = String(await node1.$`ssh node2 hostname`);
  if (answer !== "node2") throw new Error(`the answer was "${answer}"`);
  return "node2 answered";
});

// %% [markdown]
// ## Next
//
// That is the whole toolkit: run commands on nodes, and check what must be true. Lab 01 builds by hand
// what Docker builds for a container: a bridge, a veth pair, a network namespace and NAT.
