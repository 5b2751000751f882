// ---
// jupyter:
//   kernelspec:
//     display_name: TypeScript (labbook)
//     language: typescript
//     name: labbook-tslab
// ---

// %% [markdown]
// # Lab 01: Container networking underneath
//
// Docker gives a container a network by putting together a few kernel pieces. In this lab you build
// those pieces by hand on node1, and watch each one work:
//
// ```
//  node1
//  ┌──────────────────────────────────────────────────────────────┐
//  │   c2 (netns)             c3 (netns)                          │
//  │   eth0 172.17.0.2/16     eth0 172.17.0.3/16                  │
//  │      │ veth pair            │ veth pair                      │
//  │   veth-c2                veth-c3                             │
//  │      └────── docker0 bridge 172.17.0.1/16 ──────┐            │
//  │                                    iptables nat: MASQUERADE, │
//  │                                    DNAT :80 -> 172.17.0.2:80 │
//  │   eth0 192.168.0.11 ─────────────────────────────────────────┼── LAN
//  └──────────────────────────────────────────────────────────────┘
// ```
//
// - **veth**: a virtual cable with two ends. One end goes into the container's network namespace, as its `eth0`.
// - **bridge** (`docker0`): a virtual switch that joins the host ends of the cables. Its address is the containers' gateway.
// - **NAT** (network address translation): remaps addresses in packet headers while they are in transit.
//   `MASQUERADE` (source NAT) lets containers go out with the node's address. `DNAT` (destination NAT)
//   publishes a container port on the node, as `docker run -p 80:80` does.
// - **iptables** configures the kernel's netfilter. Rules live in **tables** (raw, mangle, nat, filter,
//   security), and each table hooks some of the **chains** PREROUTING, INPUT, FORWARD, OUTPUT and POSTROUTING.

// %% labbook={"id": "setup", "role": "setup"}
// Connect to the cluster and name the nodes
import { cluster, check, reaches, hasRoute, hasRule } from "labbook";

const c = await cluster({ fresh: true });
const node1 = c.node("node1");
const node2 = c.node("node2");
/** Packet counter of the first rule in `chain` of `table` on node1 that matches `pattern`. */
async function packets(table: string, chain: string, pattern: RegExp): Promise<number> {
  const line = (await node1.$`iptables -t ${table} -L ${chain} -v -n -x`).lines().find((l) => pattern.test(l));
  return line ? Number(line.trim().split(/\s+/)[0]) : -1;
}

// %% [markdown]
// ## 1. A bridge and two containers
//
// A container's network is a network namespace. `ip netns add c2` makes an empty one, with only a
// loopback device. The veth pair connects it to the `docker0` bridge.

// %% labbook={"id": "bridge", "role": "step"}
// docker0, and containers c2 and c3 cabled to it
await node1.$`ip link add docker0 type bridge`;
await node1.$`ip addr add 172.17.0.1/16 dev docker0`;
await node1.$`ip link set docker0 up`;
for (const [name, ip] of [["c2", "172.17.0.2"], ["c3", "172.17.0.3"]]) {
  await node1.$`ip netns add ${name}`;
  await node1.$`ip link add veth-${name} type veth peer name eth0 netns ${name}`;
  await node1.$`ip link set veth-${name} master docker0 up`;
  await node1.$`ip -n ${name} addr add ${ip}/16 dev eth0`;
  await node1.$`ip -n ${name} link set eth0 up`;
  await node1.$`ip -n ${name} link set lo up`;
  await node1.$`ip -n ${name} route add default via 172.17.0.1`;
}
console.log(String(await node1.$`bridge link show`));
console.log(String(await node1.$`ip netns exec c2 ip -br addr`));

// %% labbook={"id": "check-bridge", "role": "check"}
// Check: the containers reach their gateway and each other
await check("c2 has a default route via docker0's address", async () => {
  const route = String(await node1.$`ip netns exec c2 ip route show default`);
  if (!route.startsWith("default via 172.17.0.1 dev eth0")) throw new Error(`c2's default route is "${route}"`);
  return route;
});
await check("c2 reaches its gateway 172.17.0.1", async () => {
  await node1.$`ip netns exec c2 ping -c1 -W2 172.17.0.1`;
  return "ping answered";
});
await check("c2 reaches c3 across the bridge", async () => {
  await node1.$`ip netns exec c2 ping -c1 -W2 172.17.0.3`;
  return "ping answered";
});

// %% [markdown]
// ## 2. Tables and chains
//
// Each iptables table hooks only some chains. Here is the table from the lesson, read from this node's
// real `iptables -S -t <table>`: a ✓ means that table has that built-in chain.

// %% labbook={"id": "tables", "role": "step"}
// Which table has which chains, from the kernel itself
const chains = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"];
const rows: string[] = [`${"table".padEnd(10)}${chains.map((ch) => ch.padEnd(13)).join("")}`];
for (const table of ["raw", "mangle", "nat", "filter", "security"]) {
  const listing = await node1.$({ nothrow: true })`iptables -t ${table} -S`;
  const policies = listing.lines().filter((l) => l.startsWith("-P ")).map((l) => l.split(" ")[1]);
  rows.push(`${table.padEnd(10)}${chains.map((ch) => (policies.includes(ch) ? "✓" : "").padEnd(13)).join("")}`);
}
console.log(rows.join("\n"));

// %% [markdown]
// ## 3. Going out: MASQUERADE
//
// To leave node1, a container's packets need the node to forward them (`ip_forward=1`). They also need a
// source address the rest of the LAN can answer: the node's own. That is Docker's rule:
//
//     -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE

// %% labbook={"id": "masquerade", "role": "step"}
// Forwarding on, and source NAT for the container subnet
await node1.$`sysctl -w net.ipv4.ip_forward=1`;
await node1.$`iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE`;
console.log(String(await node1.$`iptables -t nat -S POSTROUTING`));

// %% labbook={"id": "check-masquerade", "role": "check"}
// Check: c2 reaches node2, and the MASQUERADE rule counts the packets
const before = await packets("nat", "POSTROUTING", /MASQUERADE/);
await check("c2 reaches node2 (192.168.0.12) through NAT", async () => {
  await node1.$`ip netns exec c2 ping -c1 -W2 192.168.0.12`;
  return "ping answered";
}, { within: 3000 });
await check("the MASQUERADE rule's packet counter rose", async () => {
  const after = await packets("nat", "POSTROUTING", /MASQUERADE/);
  if (!(after > before)) throw new Error(`the counter went from ${before} to ${after}`);
  return `${before} -> ${after} packets`;
});

// %% [markdown]
// ## 4. Coming in: a published port (DNAT)
//
// `docker run -p 80:80` makes a DOCKER chain in the nat table. Traffic to the node's own addresses
// jumps there, and port 80 is rewritten to the container:
//
//     -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
//     -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
//     -A DOCKER ! -i docker0 -p tcp --dport 80 -j DNAT --to-destination 172.17.0.2:80
//
// Inside c2, a tiny web server listens on port 80.

// %% labbook={"id": "dnat", "role": "step"}
// The DOCKER chain, the DNAT rule, and a web server in c2
await node1.$`iptables -t nat -N DOCKER`;
await node1.$`iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER`;
await node1.$`iptables -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER`;
await node1.$`iptables -t nat -A DOCKER ! -i docker0 -p tcp --dport 80 -j DNAT --to-destination 172.17.0.2:80`;
await node1.$`setsid -f ip netns exec c2 python3 -m http.server 80 --bind 172.17.0.2 > /var/log/c2-http.log 2>&1`;
console.log(String(await node1.$`iptables -t nat -S`));

// %% labbook={"id": "check-dnat", "role": "check"}
// Check: node2 reaches the container's web server through node1's address
const dnatBefore = await packets("nat", "DOCKER", /DNAT/);
await check("the DNAT rule is in the DOCKER chain", () => hasRule(node1, "nat", "DOCKER", /--dport 80 -j DNAT --to-destination 172\.17\.0\.2:80/));
await check("node2 gets an HTTP answer from 192.168.0.11:80", () => reaches(node2, "192.168.0.11", { port: 80, http: "/" }), { within: 5000 });
await check("the DNAT rule's packet counter rose", async () => {
  const after = await packets("nat", "DOCKER", /DNAT/);
  if (!(after > dnatBefore)) throw new Error(`the counter went from ${dnatBefore} to ${after}`);
  return `${dnatBefore} -> ${after} packets`;
});

// %% [markdown]
// ## Exercise: publish a second port
//
// Run a web server in **c3** on port 80, and publish it on node1's port **8080**, the way
// `docker run -p 8080:80` would. node2 must get an answer from `http://192.168.0.11:8080/`.

// %% labbook={"id": "exercise-publish", "role": "exercise", "points": 2}
// Your turn: start a server in c3 and add the DNAT rule for port 8080
// await node1.$`...`;

// %% labbook={"id": "solution-publish", "role": "solution", "points": 2}
// Solution: a server in c3, and DNAT 8080 -> 172.17.0.3:80
await node1.$`setsid -f ip netns exec c3 python3 -m http.server 80 --bind 172.17.0.3 > /var/log/c3-http.log 2>&1`;
await node1.$`iptables -t nat -A DOCKER ! -i docker0 -p tcp --dport 8080 -j DNAT --to-destination 172.17.0.3:80`;

// %% [raw] labbook={"id": "grader-setup", "role": "grader-setup"}
// // Grader setup: hidden checks run in a fresh kernel when grading, on the cluster the cells above built
// import { cluster, check, reaches, hasRule } from "labbook";
// const c = await cluster();
// const [node1, node2] = [c.node("node1"), c.node("node2")];

// %% labbook={"id": "hidden-publish", "role": "hidden-check", "hint": "Port 8080 on node1 must reach a web server in c3."}
// Hidden check: port 8080 on node1 answers from c3
await check("node2 gets an HTTP answer from 192.168.0.11:8080", () => reaches(node2, "192.168.0.11", { port: 8080, http: "/" }), { within: 5000, points: 1 });
await check("a DNAT rule sends port 8080 to c3", () => hasRule(node1, "nat", "DOCKER", /--dport 8080 .*--to-destination 172\.17\.0\.3:80/), { points: 1 });

// %% [markdown]
// ## What you built
//
// A bridge, veth pairs, namespaces, a default route, MASQUERADE and DNAT: the whole of Docker's default
// network, by hand. Lab 02 joins containers on different nodes with plain routes.
