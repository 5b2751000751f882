// ---
// jupyter:
//   kernelspec:
//     display_name: TypeScript (labbook)
//     language: typescript
//     name: labbook-tslab
//   labbook:
//     kubernetes:
//       defer: [flanneld]
// ---

// %% [markdown]
// # Lab 05: Flannel and its backends, by hand
//
// **Flannel** gives every node of a Kubernetes cluster its own pod subnet out of one cluster-wide
// network, and makes those subnets reach each other. It is one daemon, **flanneld**, on every node, and
// a shared store, **etcd**. flanneld does three things:
//
// 1. reads the **network config** at `/coreos.com/network/config`: the whole pod network
//    (`"Network": "10.244.0.0/16"`), the size of each node's piece (`"SubnetLen": 24`) and the
//    **backend** (`"Backend": {"Type": "vxlan"}`);
// 2. **leases** a free /24 for its node. The lease is a key under `/coreos.com/network/subnets/`
//    (`10.244.2.0-24`) whose value says where that subnet lives and how to reach it:
//    `{"PublicIP": "192.168.0.12", "BackendType": "vxlan", "BackendData": {"VtepMAC": "…"}}`. The key has a
//    **TTL**: a node that dies stops renewing it, and its subnet goes back to the pool. flanneld writes
//    what it got to **/run/flannel/subnet.env**, which flannel's CNI plugin reads for every pod;
// 3. **watches** the other leases, and programs its node's kernel for each of them, the way the
//    backend says.
//
// The lesson's **Backend Type** list is `udp`, `vxlan`, `host-gw` and `aws-vpc`:
//
// | backend   | how a pod packet crosses the LAN                                   | device on the node      | pod MTU |
// |-----------|--------------------------------------------------------------------|-------------------------|---------|
// | `host-gw` | as it is: a route sends the peer's /24 to the peer node's IP       | none, just `eth0`       | 1500    |
// | `vxlan`   | inside an Ethernet frame inside UDP port 8472, by the kernel       | `flannel.1` (VXLAN VTEP)| 1450    |
// | `udp`     | inside UDP port 8285, by a userspace process reading a TUN device  | `flannel0` (TUN)        | 1472    |
// | `aws-vpc` | as it is: flanneld writes each /24 into the AWS VPC route table    | none                    | 9001    |
//
// `aws-vpc` needs the AWS API and is not in this lab. You build the other three, the way flanneld does,
// on three nodes:
//
// ```
//                        etcd in node1, http://192.168.0.11:2379
//    /coreos.com/network/config                 {"Network":"10.244.0.0/16","SubnetLen":24,"Backend":{"Type":…}}
//    /coreos.com/network/subnets/10.244.1.0-24  {"PublicIP":"192.168.0.11","BackendType":…,"BackendData":…}  ┐ each on
//    /coreos.com/network/subnets/10.244.2.0-24  {"PublicIP":"192.168.0.12",…}                                  │ a 24 h
//    /coreos.com/network/subnets/10.244.3.0-24  {"PublicIP":"192.168.0.13",…}                                  ┘ lease
//             ▲ lease, watch               ▲                              ▲
//   ┌─────────┴──────────────┐  ┌──────────┴─────────────┐  ┌─────────────┴──────────┐
//   │ node1 (flanneld = you) │  │ node2                  │  │ node3                  │
//   │ /run/flannel/subnet.env│  │ /run/flannel/subnet.env│  │ /run/flannel/subnet.env│
//   │ pod 10.244.1.2         │  │ pod 10.244.2.2         │  │ pod 10.244.3.2         │
//   │  └ cni0 10.244.1.1     │  │  └ cni0 10.244.2.1     │  │  └ cni0 10.244.3.1     │
//   │ host-gw: routes        │  │ vxlan: flannel.1       │  │ udp: flannel0 + relay  │
//   └──────── eth0 .11 ──────┘  └──────── eth0 .12 ──────┘  └──────── eth0 .13 ──────┘
//   ═══════════════════════════════ LAN 192.168.0.0/24 ═══════════════════════════════
// ```
//
// First you are flanneld: every etcd write and every `ip` command is printed before it runs. Then
// (section 9) the real flanneld, v0.28.10, takes over the same etcd and the same leases, and the lab
// checks that it builds what you built. The cluster runs real Kubernetes (v1.35.4) without its own
// flanneld (`defer: [flanneld]`): until a flanneld runs, no pod network exists, and pods stay Pending.

// %% labbook={"id": "setup", "role": "setup"}
// Connect; the SDK's flannel helpers (readLeases, setupFlannel, programNode, …) print every command they run
import { cluster, check, sh, runShown, capture, addContainer, inContainer, nodeNumber, readLeases, setupFlannel,
  programNode, clearBackend, podMesh, flannelShape, flannelLeaseKeys, onlyWith, kubectlApply, startFlanneld, stopFlanneld,
  flanneldLog, scaledSeconds } from "labbook";
import { flannelKernel, sameShape } from "./flanneld.js";

const c = await cluster({ fresh: true, kubernetes: { defer: ["flanneld"] } });
const [node1, node2, node3] = [c.node("node1"), c.node("node2"), c.node("node3")];
const nodes = [node1, node2, node3];
/** etcdctl with the v3 API, talking to etcd in node1: the same on every node. */
const ETCDCTL = "ETCDCTL_API=3 etcdctl --endpoints=http://192.168.0.11:2379";

// %% [markdown]
// ## 1. etcd in node1
//
// A real cluster runs three or five etcd members. One is enough here: Debian's `etcd-server`, with its
// data in node1's private `/var/lib/flannel-etcd`. It serves clients on `192.168.0.11:2379`, so the other
// nodes' flanneld can reach it. Kubernetes' own etcd runs in node1 too, with TLS on `127.0.0.1:2379`
// and `:2380` and its data in `/var/lib/etcd`: the apiserver's store, which flannel does not use here.
// So this one listens on node1's LAN address only, and keeps its data apart.
//
// **Which API?** This lab uses etcd's **v3 API** (`ETCDCTL_API=3`, the default of etcdctl 3.4). The
// lesson's flanneld spoke the older **v2 API**, where a key has its own TTL (`etcdctl set --ttl 86400`).
// etcd 3.4 serves v2 only when started with `--enable-v2`, and v2 is gone from etcd 3.6. flanneld itself
// moved to v3, with the same key paths. In v3, a TTL belongs to a **lease**: `etcdctl lease grant 86400`
// creates one, `put --lease=<id>` attaches a key to it, and when the lease expires (or is revoked) every
// key attached to it is deleted. flanneld renews its lease before it runs out.

// %% labbook={"id": "etcd", "role": "step"}
// Start etcd in node1, detached, and wait (deadline 20 s) until it answers
await sh(node1, "setsid -f etcd --name flannel --data-dir /var/lib/flannel-etcd --listen-client-urls http://192.168.0.11:2379 --advertise-client-urls http://192.168.0.11:2379 --listen-peer-urls http://192.168.0.11:2380 --initial-advertise-peer-urls http://192.168.0.11:2380 --initial-cluster flannel=http://192.168.0.11:2380 > /var/log/flannel-etcd.log 2>&1");
await runShown(node1, [`timeout ${scaledSeconds(20)} sh -c 'until ${ETCDCTL} endpoint health 2>/dev/null; do sleep 0.2; done'`]);

// %% labbook={"id": "check-etcd", "role": "check"}
// Check: every node reaches etcd at 192.168.0.11:2379
for (const node of nodes) {
  await check(`${node.name} reaches etcd at 192.168.0.11:2379`, async () => {
    const health = await node.$({ nothrow: true })`sh -c ${`${ETCDCTL} endpoint health`}`;
    if (!health.ok) throw new Error((health.stdout + health.stderr).trim());
    return health.stdout.trim() || health.stderr.trim();
  }, { within: 5000 });
}

// %% [markdown]
// ## 2. The network config
//
// One key for the whole cluster. `Network` is the pod network, `SubnetLen` the size of each node's
// piece (a /24: 254 pods a node, and room for 256 nodes in the /16), and `Backend.Type` the backend.
// This lab starts with `host-gw`. Every flanneld reads this key when it starts; to change the backend,
// a real cluster rewrites it and restarts flanneld everywhere.

// %% labbook={"id": "config", "role": "step"}
// Write /coreos.com/network/config, and read it back from another node
const networkConfig = { Network: "10.244.0.0/16", SubnetLen: 24, Backend: { Type: "host-gw" } };
await sh(node1, `${ETCDCTL} put /coreos.com/network/config '${JSON.stringify(networkConfig)}'`);
await runShown(node2, [`${ETCDCTL} get /coreos.com/network/config`]);

// %% labbook={"id": "check-config", "role": "check"}
// Check: the config in etcd is the one written
await check("/coreos.com/network/config holds Network 10.244.0.0/16, SubnetLen 24, Backend host-gw", async () => {
  const lines = (await node3.$`sh -c ${`${ETCDCTL} get /coreos.com/network/config --print-value-only`}`).lines();
  const config = JSON.parse(lines[0] ?? "null");
  if (config?.Network !== "10.244.0.0/16" || config?.SubnetLen !== 24 || config?.Backend?.Type !== "host-gw") throw new Error(`it holds ${lines[0] ?? "nothing"}`);
  return lines[0]!;
});

// %% [markdown]
// ## 3. Each node leases its /24
//
// flanneld on each node grants itself a 24-hour lease and attaches its subnet's key to it. The key's name
// is the subnet with `/` written as `-`. The value has flannel's shape: **PublicIP** (the node's
// address, where the subnet's packets go), **BackendType**, and **BackendData** (whatever the backend's
// peers need; `host-gw` needs nothing).
//
// **Which /24?** flanneld picks a free one at random within `Network`, and creates the key only if it
// does not exist yet, so two nodes never get the same. On a restart it takes back the lease whose
// `PublicIP` is its own. This lab picks for it: node*N* gets `10.244.N.0/24`, so a pod's address names its node.

// %% labbook={"id": "leases", "role": "step"}
// Each node: lease grant, then put its subnet's key with that lease
for (const node of nodes) {
  const n = nodeNumber(node); // node2 -> 2: 10.244.2.0/24
  const grant = await sh(node, `${ETCDCTL} lease grant 86400`);
  const id = /lease ([0-9a-f]+) granted/.exec(grant.stdout)![1];
  const value = { PublicIP: node.ip, BackendType: "host-gw", BackendData: {} };
  await sh(node, `${ETCDCTL} put --lease=${id} /coreos.com/network/subnets/10.244.${n}.0-24 '${JSON.stringify(value)}'`);
}
await sh(node1, `${ETCDCTL} get --prefix --keys-only /coreos.com/network/subnets/`);
await runShown(node1, [`for id in $(${ETCDCTL} lease list | tail -n +2); do ${ETCDCTL} lease timetolive $id --keys; done`]);

// %% labbook={"id": "check-leases", "role": "check"}
// Check: three keys, each on a live TTL lease, each with flannel's value shape
await check("etcd holds a host-gw lease for each node's /24, each on a live TTL lease", () => flannelLeaseKeys(c, nodes, "host-gw"));

// %% [markdown]
// ## 4. subnet.env, and a pod on each node
//
// flanneld writes what it leased to `/run/flannel/subnet.env`:
//
// - `FLANNEL_NETWORK`: the whole pod network, `10.244.0.0/16`;
// - `FLANNEL_SUBNET`: the node's /24, written as the gateway's address, `10.244.N.1/24`: that is `cni0`;
// - `FLANNEL_MTU`: the MTU pods must use with this backend;
// - `FLANNEL_IPMASQ`: whether flanneld masquerades pod traffic that leaves the pod network (`--ip-masq`).
//   `false` here: pods talk only to pods.
//
// flannel's CNI plugin reads this file for every new pod and hands the bridge plugin the subnet (to
// `host-local` IPAM) and the MTU (for the pod's veth pair and `cni0`). Below, the pod is made by hand,
// with lab 01's `addContainer`: a network namespace `pod` at `10.244.N.2` behind `cni0`.

// %% labbook={"id": "subnet-env", "role": "step"}
// Read the leases back, write each node's subnet.env from its own lease, and give each node a pod
const leases = await readLeases(c, node1);
for (const node of nodes) {
  const lease = leases.find((l) => l.publicIP === node.ip)!;
  const gateway = lease.subnet.replace(".0/24", ".1/24"); // 10.244.N.1/24: cni0, the pods' gateway
  await sh(node, `mkdir -p /run/flannel && printf '%s\\n' FLANNEL_NETWORK=10.244.0.0/16 FLANNEL_SUBNET=${gateway} FLANNEL_MTU=1500 FLANNEL_IPMASQ=false > /run/flannel/subnet.env`);
  await sh(node, "cat /run/flannel/subnet.env");
  await addContainer(node, { name: "pod", address: lease.subnet.replace(".0/24", ".2/24"), bridge: "cni0", gateway });
}

// %% labbook={"id": "check-subnet-env", "role": "check"}
// Check: subnet.env matches each node's lease, and no pod reaches another node's pod yet
for (const node of nodes) {
  await check(`${node.name}: subnet.env says FLANNEL_SUBNET=10.244.${nodeNumber(node)}.1/24`, async () => {
    const env = (await node.$`cat /run/flannel/subnet.env`).stdout;
    if (!env.includes(`FLANNEL_SUBNET=10.244.${nodeNumber(node)}.1/24`) || !env.includes("FLANNEL_NETWORK=10.244.0.0/16")) throw new Error(env);
    return env.trim().split("\n").join(" ");
  });
}
await check("no backend yet: node1's pod cannot reach node2's pod", async () => {
  const ping = await inContainer(node1, "pod", "ping -c1 -W1 10.244.2.2");
  if (ping.ok) throw new Error("10.244.2.2 answered: something already routes 10.244.2.0/24");
  return "10.244.2.2 does not answer: node1 has no route to 10.244.2.0/24 but its default route";
});

// %% [markdown]
// ## 5. host-gw: plain routes via the node IPs
//
// The simplest backend. For each other lease, flanneld adds one route: the peer's /24 **via the peer's
// PublicIP**. The pod packet crosses the LAN unchanged, with the pods' own addresses. This is lab 02's
// `ip route add 172.18.0.0/16 via 192.168.0.12`, only now the routes come from etcd. The catch: the
// next hop must be directly reachable, so every node must be on **one L2 network**. Nodes behind a
// router cannot use host-gw.
//
// Each node also forwards packets (`ip_forward`), between `cni0` and `eth0`.

// %% labbook={"id": "hostgw", "role": "step"}
// host-gw: each node reads the leases and routes every other /24 via that node's PublicIP
for (const node of nodes) {
  await sh(node, "sysctl -w net.ipv4.ip_forward=1");
  for (const lease of await readLeases(c, node)) {
    if (lease.publicIP !== node.ip) await sh(node, `ip route add ${lease.subnet} via ${lease.publicIP} dev ${node.lanInterface}`);
  }
  await sh(node, "ip route");
}

// %% labbook={"id": "check-hostgw", "role": "check"}
// Check: every pod reaches every other pod; each node has host-gw's shape and nothing else
await check("host-gw: every pod pings every pod on the other nodes", () => podMesh(nodes), { within: 5000 });
for (const node of nodes) {
  await check(`${node.name}: routes via the node IPs, no flannel.1, no flannel0, pod MTU 1500`, () => flannelShape(c, node, "host-gw"));
}

// %% labbook={"id": "hostgw-wire", "role": "step"}
// On the wire: tcpdump on node2's eth0 while node1's pod pings node2's pod
const hostgwPackets = await capture(node2, { iface: node2.lanInterface, filter: "net 10.244.0.0/16 or udp", count: 2 },
  () => inContainer(node1, "pod", "ping -c1 -W1 10.244.2.2"));

// %% labbook={"id": "check-hostgw-wire", "role": "check"}
// Check: host-gw puts the pods' own addresses on the wire, with no encapsulation
await check(`host-gw: node2's ${node2.lanInterface} sees 10.244.1.2 > 10.244.2.2 ICMP, not inside UDP`, () => {
  const request = hostgwPackets.find((p) => /IP 10\.244\.1\.2 > 10\.244\.2\.2: ICMP echo request/.test(p));
  if (!request || hostgwPackets.some((p) => / UDP|VXLAN|\.8472|\.8285/.test(p))) throw new Error(`captured:\n${hostgwPackets.join("\n") || "(nothing)"}`);
  return request;
});

// %% [markdown]
// ## 6. vxlan: Ethernet in UDP, by the kernel
//
// With **vxlan**, each node has a VXLAN device, a **VTEP** (VXLAN tunnel endpoint), named `flannel.1`
// after its **VNI** (VXLAN network identifier) `1`. A packet routed into it is wrapped: the inner
// Ethernet frame goes into a UDP datagram to port **8472** of the peer node, with an 8-byte VXLAN header
// that carries the VNI. The LAN only sees node-to-node UDP, so the nodes need not share an L2 network.
//
// flanneld does not let VXLAN learn addresses by flooding (`nolearning`). It writes three entries per
// peer lease, all from etcd:
//
// | entry | for peer node2 | why |
// |---|---|---|
// | route | `10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink` | the next hop is node2's `flannel.1` address; `onlink`: no route is needed to reach it |
// | neighbour (ARP) | `10.244.2.0 lladdr <node2's VtepMAC>` | the inner frame's destination MAC, with no ARP request |
// | fdb | `<node2's VtepMAC> dst 192.168.0.12` | where to send the UDP datagram for that MAC |
//
// So the peers need each node's **VtepMAC**: flanneld creates `flannel.1` first, then puts its MAC in
// the lease's `BackendData`. Switching from host-gw also means removing host-gw's routes first.
//
// **MTU 1450**: VXLAN adds 50 bytes: outer IP 20, UDP 8, VXLAN 8, and the inner Ethernet header 14. A
// pod with MTU 1500 would send packets the tunnel cannot carry whole, so subnet.env says
// `FLANNEL_MTU=1450`, and flannel's CNI plugin gives the pod's eth0 that MTU (here: set by hand).

// %% labbook={"id": "vxlan-device", "role": "step"}
// vxlan, part 1: the config; then each node drops host-gw's routes, creates flannel.1 and puts its MAC in its lease
await sh(node1, `${ETCDCTL} put /coreos.com/network/config '${JSON.stringify({ ...networkConfig, Backend: { Type: "vxlan", VNI: 1, Port: 8472 } })}'`);
for (const node of nodes) {
  const n = nodeNumber(node);
  for (const other of nodes) if (other !== node) await sh(node, `ip route del 10.244.${nodeNumber(other)}.0/24 via ${other.ip}`);
  await runShown(node, [
    `ip link add flannel.1 type vxlan id 1 local ${node.ip} dev ${node.lanInterface} dstport 8472 nolearning`,
    "ip link set flannel.1 mtu 1450 up",
    `ip addr add 10.244.${n}.0/32 dev flannel.1`,
  ]);
  const mac = (await sh(node, "cat /sys/class/net/flannel.1/address")).stdout.trim();
  const value = { PublicIP: node.ip, BackendType: "vxlan", BackendData: { VtepMAC: mac } };
  // --ignore-lease: a new value for the key, which stays on the lease it has (flanneld keeps its lease)
  await sh(node, `${ETCDCTL} put --ignore-lease /coreos.com/network/subnets/10.244.${n}.0-24 '${JSON.stringify(value)}'`);
  await runShown(node, [
    "sed -i 's/^FLANNEL_MTU=.*/FLANNEL_MTU=1450/' /run/flannel/subnet.env",
    "ip link set veth-pod mtu 1450",
    "ip -n pod link set eth0 mtu 1450",
  ]);
}

// %% labbook={"id": "vxlan-peers", "role": "step"}
// vxlan, part 2: each node reads the leases back and writes a route, a neighbour and an fdb entry per peer
for (const node of nodes) {
  for (const lease of await readLeases(c, node)) {
    if (lease.publicIP === node.ip) continue;
    const vtep = lease.subnet.replace("/24", ""); // the peer's flannel.1 address, 10.244.M.0
    const mac = String(lease.backendData.VtepMAC);
    await runShown(node, [
      `ip route add ${lease.subnet} via ${vtep} dev flannel.1 onlink`,
      `ip neigh add ${vtep} lladdr ${mac} dev flannel.1 nud permanent`,
      `bridge fdb append ${mac} dev flannel.1 dst ${lease.publicIP}`,
    ]);
  }
}
await runShown(node1, ["ip -d link show flannel.1", "ip route", "ip neigh show dev flannel.1", "bridge fdb show dev flannel.1"]);

// %% labbook={"id": "check-vxlan", "role": "check"}
// Check: pods reach each other; flannel.1's shape; no host-gw routes left; the leases carry the VtepMACs
await check("vxlan: every pod pings every pod on the other nodes", () => podMesh(nodes), { within: 5000 });
for (const node of nodes) {
  await check(`${node.name}: flannel.1 vxlan id 1 dstport 8472 nolearning, onlink routes, neigh, fdb; no routes via node IPs`, () => flannelShape(c, node, "vxlan"));
}
await check("each lease says vxlan, with its node's flannel.1 MAC as VtepMAC", () => flannelLeaseKeys(c, nodes, "vxlan"));

// %% labbook={"id": "vxlan-wire", "role": "step"}
// On the wire: the same ping, captured on node2's eth0, decoded as VXLAN (-T vxlan)
const vxlanPackets = await capture(node2, { iface: node2.lanInterface, filter: "udp port 8472 or icmp", count: 2, flags: ["-T", "vxlan"] },
  () => inContainer(node1, "pod", "ping -c1 -W1 10.244.2.2"));

// %% labbook={"id": "check-vxlan-wire", "role": "check"}
// Check: on the wire, node-to-node UDP 8472 with VNI 1, and the pods' packet inside it
await check(`vxlan: node2's ${node2.lanInterface} sees 192.168.0.11 > 192.168.0.12.8472 VXLAN vni 1, carrying 10.244.1.2 > 10.244.2.2`, () => {
  const text = vxlanPackets.join("\n");
  const outer = /IP 192\.168\.0\.11\.\d+ > 192\.168\.0\.12\.8472: VXLAN.*vni 1/.exec(text);
  const inner = /IP 10\.244\.1\.2 > 10\.244\.2\.2: ICMP echo request/.exec(text);
  if (!outer || !inner) throw new Error(`captured:\n${text || "(nothing)"}`);
  return `${outer[0]} / ${inner[0]}`;
});

// %% [markdown]
// ## 7. udp: a TUN device and a relay in userspace, with one call
//
// flannel's first backend. Each node gets a **TUN** device, `flannel0`, with the address `10.244.N.0/16`:
// the whole pod network routes into it (the node's own /24 stays on `cni0`: the longer prefix wins). A
// TUN device hands every packet routed into it to the process that holds it open. flanneld reads the
// packet, looks up its destination /24 in the leases, and sends the whole packet as the payload of one
// UDP datagram to that node's **PublicIP, port 8285**. The peer's flanneld writes it into its own
// `flannel0`, and the kernel routes it to `cni0` and the pod.
//
// Here a small Python program does flanneld's part: `runner/sdk/flannel-udp-relay.py` (printed below).
// Every packet crosses from kernel to userspace and back on both nodes, which is why flannel's docs
// say to use `udp` only for debugging, when VXLAN and host-gw are not possible.
//
// **MTU 1472**: 1500 minus the outer IP header (20) and UDP (8). There is no inner Ethernet header: a
// TUN device carries bare IP packets.
//
// From here on, one call switches the backend: `setupFlannel(c, "udp")` rewrites the config, removes
// the previous backend's state on each node (here: `flannel.1`, its routes and entries), creates
// `flannel0`, updates the leases and `subnet.env`, sets the pods' MTU, then runs `programNode` on each
// node: read the leases, start the relay with their table. It prints every command.

// %% labbook={"id": "udp", "role": "step"}
// Switch to udp in one call, then look at the result on node1
const udpLeases = await setupFlannel(c, "udp");
const byHand = new Map<string, string[][]>(); // each backend's kernel state as you built it, for section 9
byHand.set("udp", await Promise.all(nodes.map((node) => flannelKernel(nodes, node))));
await runShown(node1, ["ip -d link show flannel0", "ip route", "ss -ulpn 'sport = :8285'", "sed -n '/^def main/,$p' /run/flannel/udp-relay.py"]);

// %% labbook={"id": "check-udp", "role": "check"}
// Check: pods reach each other; flannel0 and the relay, and nothing of vxlan or host-gw
await check("udp: every pod pings every pod on the other nodes", () => podMesh(nodes), { within: 5000 });
for (const node of nodes) {
  await check(`${node.name}: flannel0 (tun, MTU 1472), 10.244.0.0/16 into it, relay on UDP 8285; no flannel.1, no routes via node IPs`, () => flannelShape(c, node, "udp"));
}
await check("each lease says udp", () => flannelLeaseKeys(c, nodes, "udp"));

// %% labbook={"id": "udp-wire", "role": "step"}
// On the wire: the same ping once more
const udpPackets = await capture(node2, { iface: node2.lanInterface, filter: "udp port 8285 or icmp", count: 2 },
  () => inContainer(node1, "pod", "ping -c1 -W1 10.244.2.2"));

// %% labbook={"id": "check-udp-wire", "role": "check"}
// Check: node to node on UDP 8285, 84 bytes: the pod's whole ICMP packet (20 + 64) is the payload
await check(`udp: node2's ${node2.lanInterface} sees 192.168.0.11.8285 > 192.168.0.12.8285, UDP length 84, and no bare ICMP`, () => {
  const request = udpPackets.find((p) => /IP 192\.168\.0\.11\.8285 > 192\.168\.0\.12\.8285: UDP, length 84/.test(p));
  if (!request || udpPackets.some((p) => /ICMP/.test(p))) throw new Error(`captured:\n${udpPackets.join("\n") || "(nothing)"}`);
  return request;
});

// %% [markdown]
// ## 8. Switching back and forth
//
// One call each: back to `host-gw`, then to `vxlan` again. Watch what each switch removes first: the
// relay (`kill` with the pid it wrote) and `flannel0` when leaving udp, and the routes via the node IPs
// when leaving host-gw. The checks are the same as before, and are as strict: a `flannel.1` or a
// relay left over from an earlier backend fails them.

// %% labbook={"id": "switch-hostgw", "role": "step"}
// udp -> host-gw
const hostgwLeases = await setupFlannel(c, "host-gw");
byHand.set("host-gw", await Promise.all(nodes.map((node) => flannelKernel(nodes, node))));
console.log(hostgwLeases.map((l) => `${l.node}: ${l.subnet} via ${l.publicIP}`).join("\n"));

// %% labbook={"id": "check-switch-hostgw", "role": "check"}
// Check: host-gw's shape again, with the relay and flannel0 gone
await check("host-gw again: every pod pings every pod", () => podMesh(nodes), { within: 5000 });
for (const node of nodes) await check(`${node.name}: host-gw shape, no relay, no flannel0`, () => flannelShape(c, node, "host-gw"));

// %% labbook={"id": "switch-vxlan", "role": "step"}
// host-gw -> vxlan
const vxlanLeases = await setupFlannel(c, "vxlan");
byHand.set("vxlan", await Promise.all(nodes.map((node) => flannelKernel(nodes, node))));
console.log(vxlanLeases.map((l) => `${l.node}: ${l.subnet} VtepMAC ${String(l.backendData.VtepMAC)}`).join("\n"));

// %% labbook={"id": "check-switch-vxlan", "role": "check"}
// Check: vxlan's shape again, with host-gw's routes gone
await check("vxlan again: every pod pings every pod", () => podMesh(nodes), { within: 5000 });
for (const node of nodes) await check(`${node.name}: vxlan shape, no routes via node IPs`, () => flannelShape(c, node, "vxlan"));
await check("each lease says vxlan, with the new flannel.1 MACs", () => flannelLeaseKeys(c, nodes, "vxlan"));

// %% [markdown]
// ## 9. The real flanneld takes over
//
// Now the real flanneld (v0.28.10, built here), with the etcd backend the lesson describes, on the same
// etcd and the same `/coreos.com/network/` keys you wrote. A Kubernetes cluster usually runs flanneld
// with `--kube-subnet-mgr`: the leases are then the nodes' `spec.podCIDR` in the apiserver, not etcd
// keys. This cluster deferred that flanneld, so the one below is the only one:
//
// ```
// flanneld --etcd-endpoints=http://192.168.0.11:2379 --etcd-prefix=/coreos.com/network --iface=eth0
// ```
//
// What it does when it starts, in its log: read the config; pick its subnet; grant itself a 24 h etcd
// lease and put its key, with its own `BackendData`; set up the backend's device; write `subnet.env`;
// then watch the other leases and program a route (and for vxlan a neighbour and an fdb entry) for each.
// Which subnet: a key whose `PublicIP` is its node's if there is one (it takes it back); otherwise the
// `FLANNEL_SUBNET` of the `subnet.env` it finds, if that subnet is free; otherwise a free one at random.
//
// Before it starts, your leases are revoked (their keys go with them), so every key in etcd below is
// one flanneld wrote. Each node's `subnet.env` still says `10.244.N.1/24`, so node*N* asks for
// `10.244.N.0/24` again. Revoking them also matters for vxlan: node1's flanneld, started first, would
// otherwise program node2's and node3's VtepMACs from your leases, and when node2's flanneld replaces
// its lease with a new MAC, flanneld adds the new fdb entry but leaves the old one (a stale entry, which
// nothing uses). Your backend state goes too (`clearBackend`: `flannel.1`, its routes and entries).
// Your `cni0` and your pods at `10.244.N.2` stay: flannel's CNI plugin uses the same bridge
// with the same gateway `10.244.N.1`. It gives addresses with `host-local`, which keeps one file per
// address it handed out in `/var/lib/cni/networks/cbr0/` (`cbr0` is the network's name in
// `/etc/cni/net.d/10-flannel.conflist`). A file for `10.244.N.2` keeps it from giving your pod's
// address to a real pod.
//
// The check then compares, line by line, each node's kernel state under flanneld with the state you
// built in section 8: `flannel.1`'s options, every route, neighbour and fdb entry. flanneld makes new
// VTEP MACs, so a MAC is written as the node it belongs to.

// %% labbook={"id": "real-vxlan", "role": "step", "requires": ["kubernetes"]}
// The real flanneld, vxlan: your leases and backend state go; each node's flanneld leases its /24 again
await onlyWith(c, "kubernetes", async () => {
  await runShown(node1, [`for id in $(${ETCDCTL} lease list | tail -n +2); do ${ETCDCTL} lease revoke $id; done`, `${ETCDCTL} get --prefix --keys-only /coreos.com/network/subnets/ | grep -c . || true`]);
  for (const node of nodes) await clearBackend(node);
  for (const node of nodes) {
    await sh(node, `mkdir -p /var/lib/cni/networks/cbr0 && echo by-hand-pod > /var/lib/cni/networks/cbr0/10.244.${nodeNumber(node)}.2`);
    await startFlanneld(c, node);
  }
  for (const node of nodes) console.log(`${node.name}: /var/log/flanneld-etcd.log\n${await flanneldLog(node)}`);
  await runShown(node1, [`${ETCDCTL} get --prefix /coreos.com/network/subnets/`, "ip -d link show flannel.1", "ip route", "ip neigh show dev flannel.1", "bridge fdb show dev flannel.1"]);
});

// %% labbook={"id": "check-real-vxlan", "role": "check", "requires": ["kubernetes"]}
// Check: flanneld rewrote each lease itself, and each node's vxlan state is the one you built, line by line
await onlyWith(c, "kubernetes", async () => {
  await check("each lease is flanneld's now: vxlan, BackendData with VNI 1 (you never wrote it) and the new VtepMAC, live lease", async () => {
    for (const lease of await readLeases(c, node1, { quiet: true })) {
      if (lease.backendData.VNI !== 1) throw new Error(`${lease.key}: BackendData ${JSON.stringify(lease.backendData)}, no VNI: not written by flanneld`);
    }
    return flannelLeaseKeys(c, nodes, "vxlan");
  }, { within: 10000 });
  for (const [i, node] of nodes.entries()) {
    await check(`${node.name}: flanneld's flannel.1, routes, neighbours and fdb are yours`, async () =>
      sameShape(node.name, byHand.get("vxlan")![i]!, await flannelKernel(nodes, node)), { within: 10000 });
    await check(`${node.name}: the vxlan shape of section 6, subnet.env from flanneld (MTU 1450)`, () => flannelShape(c, node, "vxlan"));
  }
  await check("your pods reach each other through flanneld's vxlan", () => podMesh(nodes), { within: 5000 });
});

// %% [markdown]
// ### Real pods
//
// flanneld has written `subnet.env` on every node, which is what kubelet's CNI plugin needs. The
// cluster's nodes carry a taint, `labbook.dev/flannel:NoSchedule`, until then: without a pod network a
// pod could not start. Lift it, as flanneld's start in Kubernetes does, and run one `labbook/probe:1`
// pod on each node. Their addresses come from flanneld's leases. `kubectl get nodes` also shows each
// node's `spec.podCIDR`: what `--kube-subnet-mgr` would have used. The controller manager hands those
// out in the order the nodes registered, so they need not match `10.244.N.0/24`. In etcd mode flanneld
// ignores them, and so does the CNI plugin: it reads `subnet.env`.

// %% labbook={"id": "real-pods", "role": "step", "requires": ["kubernetes"]}
// Lift the taint; one pod on each node; where their addresses come from
const REAL_PODS = nodes.map((node) => `apiVersion: v1
kind: Pod
metadata:
  name: real-${nodeNumber(node)}
  labels: { lab: flannel }
spec:
  nodeName: ${node.name}
  containers:
    - name: probe
      image: labbook/probe:1
`).join("---\n");
await onlyWith(c, "kubernetes", async () => {
  for (const node of nodes) await sh(node, `kubectl taint node ${node.name} labbook.dev/flannel-`);
  await kubectlApply(node1, REAL_PODS, "real-pods.yaml");
  await runShown(node1, [
    `kubectl wait --for=condition=Ready pod -l lab=flannel --timeout=${scaledSeconds(90)}`,
    "kubectl get pods -l lab=flannel -o wide",
    "kubectl get nodes -o custom-columns=NAME:.metadata.name,PODCIDR:.spec.podCIDR",
  ]);
});

// %% labbook={"id": "check-real-pods", "role": "check", "requires": ["kubernetes"]}
// Check: each real pod's address is in its node's flanneld lease, its MTU is 1450, and it reaches the others
/** real-N's pod IP, from the apiserver. */
const realPodIP = async (n: number) => String(await node1.$`kubectl get pod real-${n} -o jsonpath={.status.podIP}`).trim();
/** real-`from` pings `to` (an address) once. */
const realPing = (from: number, to: string) => node1.run(`kubectl exec real-${from} -- ping -c1 -W2 ${to}`, { nothrow: true });
/** Checks that real-1 pings real-3, `how` saying through what. */
const realOneReachesThree = (how: string) =>
  check(`real-1 pings real-3 ${how}`, async () => {
    const ip = await realPodIP(3);
    const ping = await realPing(1, ip);
    if (!ping.ok) throw new Error(`real-1 -> real-3 ${ip}: ${(ping.stdout + ping.stderr).trim() || "no answer"}`);
    return `real-1 -> real-3 ${ip}: answered`;
  }, { within: 5000 });
await onlyWith(c, "kubernetes", async () => {
  for (const node of nodes) {
    const n = nodeNumber(node);
    await check(`real-${n} on ${node.name} has an address in 10.244.${n}.0/24 (flanneld's lease), MTU 1450`, async () => {
      const ip = await realPodIP(n);
      const mtu = String(await node1.$`kubectl exec real-${n} -- cat /sys/class/net/eth0/mtu`).trim();
      if (!ip.startsWith(`10.244.${n}.`) || ip === `10.244.${n}.2` || mtu !== "1450") throw new Error(`real-${n}: ${ip || "no IP"}, MTU ${mtu}`);
      return `real-${n}: ${ip}, MTU ${mtu}`;
    });
  }
  await check("real-1 pings real-2, real-3 and your pod on node3", async () => {
    const targets = [await realPodIP(2), await realPodIP(3), "10.244.3.2"];
    const failed: string[] = [];
    for (const ip of targets) if (!(await realPing(1, ip)).ok) failed.push(ip);
    if (failed.length) throw new Error(`no answer from ${failed.join(", ")}`);
    return `answers from ${targets.join(", ")}`;
  }, { within: 5000 });
});

// %% [markdown]
// ### host-gw, by flanneld
//
// A backend change is what a real cluster does by hand too: rewrite the config, restart every flanneld.
// This time each flanneld finds a key with its own `PublicIP` and takes it back, with the new
// `BackendType`. flanneld does not remove what the backend it ran before built, so `clearBackend`
// removes `flannel.1` first (its routes go with it). The real pods keep the MTU they were made with (1450): a pod takes
// `FLANNEL_MTU` only when the CNI plugin makes it. Your pods get 1500, as new pods would.

// %% labbook={"id": "real-hostgw", "role": "step", "requires": ["kubernetes"]}
// host-gw: the config, then on each node: stop flanneld, remove vxlan's state (flannel.1), start flanneld
await onlyWith(c, "kubernetes", async () => {
  await sh(node1, `${ETCDCTL} put /coreos.com/network/config '${JSON.stringify(networkConfig)}'`);
  for (const node of nodes) {
    await stopFlanneld(node);
    await clearBackend(node);
    await startFlanneld(c, node);
    await sh(node, "ip link set veth-pod mtu 1500 && ip -n pod link set eth0 mtu 1500");
  }
  await runShown(node1, ["ip route", `${ETCDCTL} get --prefix /coreos.com/network/subnets/`]);
});

// %% labbook={"id": "check-real-hostgw", "role": "check", "requires": ["kubernetes"]}
// Check: flanneld's host-gw routes are yours, line by line; pods, yours and real, reach each other
await onlyWith(c, "kubernetes", async () => {
  for (const [i, node] of nodes.entries()) {
    await check(`${node.name}: flanneld's host-gw routes are yours, and nothing else`, async () =>
      sameShape(node.name, byHand.get("host-gw")![i]!, await flannelKernel(nodes, node)), { within: 10000 });
    await check(`${node.name}: the host-gw shape of section 5`, () => flannelShape(c, node, "host-gw"));
  }
  await check("each lease says host-gw, written by flanneld", () => flannelLeaseKeys(c, nodes, "host-gw"), { within: 5000 });
  await check("your pods reach each other through flanneld's host-gw routes", () => podMesh(nodes), { within: 5000 });
  await realOneReachesThree("through flanneld's host-gw routes");
});

// %% [markdown]
// ### udp, by flanneld
//
// flanneld v0.28.10 still has the `udp` backend (built with cgo, as it needs): the real `flannel0` and
// the real relay, inside flanneld, in place of the lab's Python one. The switch is the same: the config,
// then on each node stop flanneld, remove host-gw's routes (flanneld leaves them when it stops), start
// flanneld. Your pods get MTU 1472.
//
// Two things differ from what you built, and the check names them rather than hide them:
// - flanneld v0.28 gives `flannel0` the address `10.244.N.0/32` and adds the route `10.244.0.0/16 dev
//   flannel0` itself. You gave it `10.244.N.0/16`, and the kernel made the same route from that address
//   (older flanneld did it your way). Packets take the same path.
// - its udp lease has no `BackendType` (the udp backend leaves it empty): `{"PublicIP": …}` only.

// %% labbook={"id": "real-udp", "role": "step", "requires": ["kubernetes"]}
// udp: the config, then on each node: stop flanneld, remove host-gw's routes, start flanneld
await onlyWith(c, "kubernetes", async () => {
  await sh(node1, `${ETCDCTL} put /coreos.com/network/config '${JSON.stringify({ ...networkConfig, Backend: { Type: "udp", Port: 8285 } })}'`);
  for (const node of nodes) {
    await stopFlanneld(node);
    await clearBackend(node);
    await startFlanneld(c, node);
    await sh(node, "ip link set veth-pod mtu 1472 && ip -n pod link set eth0 mtu 1472");
  }
  await runShown(node1, ["ip -d link show flannel0", "ip route", "ss -ulpn 'sport = :8285'"]);
});

// %% labbook={"id": "check-real-udp", "role": "check", "requires": ["kubernetes"]}
// Check: flanneld's flannel0, its route and its socket are yours; pods, yours and real, reach each other
await onlyWith(c, "kubernetes", async () => {
  for (const [i, node] of nodes.entries()) {
    await check(`${node.name}: flanneld's flannel0, 10.244.0.0/16 into it, UDP 8285: as you built them, but the address /32`, async () => {
      const expected = byHand.get("udp")![i]!.map((line) => line.replace(/^(flannel0: .* addr 10\.244\.\d+\.0)\/16$/, "$1/32"));
      return sameShape(node.name, expected, await flannelKernel(nodes, node));
    }, { within: 10000 });
    await check(`${node.name}: the udp shape of section 7, with flanneld as the relay`, async () => {
      const owner = (await node.$`ss -Hulpn ${"sport = :8285"}`).stdout;
      if (!owner.includes("flanneld")) throw new Error(`UDP 8285 is held by: ${owner.trim() || "nothing"}`);
      return flannelShape(c, node, "udp");
    });
  }
  await check("each node's lease is flanneld's udp one: its PublicIP, and no BackendType", async () => {
    const leases = await readLeases(c, node1, { quiet: true });
    const seen: string[] = [];
    for (const node of nodes) {
      const lease = leases.find((l) => l.subnet === `10.244.${nodeNumber(node)}.0/24`);
      if (!lease || lease.publicIP !== node.ip || lease.backendType) throw new Error(`${node.name}: ${lease ? JSON.stringify(lease) : "no lease"}`);
      seen.push(`${lease.subnet} ${lease.publicIP}`);
    }
    return seen.join(", ");
  }, { within: 5000 });
  await check("your pods reach each other through flanneld's udp relay", () => podMesh(nodes), { within: 5000 });
  await realOneReachesThree("through flanneld's udp relay");
});

// %% [markdown]
// ### Back to you
//
// flanneld stops on every node; its leases stay in etcd (they would expire in 24 h). The rest of the lab
// is yours again: `setupFlannel(c, "vxlan")` builds vxlan by hand from the same leases. The real pods
// stay where they are: they do not care who programs the kernel. The exercise's hidden check pings
// between them too.

// %% labbook={"id": "real-stop", "role": "step", "requires": ["kubernetes"]}
// Stop flanneld on every node, and build vxlan by hand again
await onlyWith(c, "kubernetes", async () => {
  for (const node of nodes) await stopFlanneld(node);
  await setupFlannel(c, "vxlan");
});

// %% labbook={"id": "check-real-stop", "role": "check", "requires": ["kubernetes"]}
// Check: no flanneld runs; vxlan by hand again; the real pods reach each other over it
await onlyWith(c, "kubernetes", async () => {
  for (const node of nodes) {
    await check(`${node.name}: no flanneld, vxlan shape by hand`, async () => {
      const ps = await node.run("pgrep -a flanneld", { nothrow: true });
      if (ps.ok) throw new Error(`flanneld still runs: ${ps.stdout.trim()}`);
      return flannelShape(c, node, "vxlan");
    }, { within: 5000 });
  }
  await realOneReachesThree("over your vxlan");
});

// %% [markdown]
// ## 10. node3 leaves
//
// When a node goes away, its flanneld stops renewing its lease, and after the TTL etcd deletes the
// key. Revoking the lease does the same at once. The other nodes' flanneld see the key disappear
// (they watch the prefix) and remove that node's route, neighbour and fdb entry. `programNode` is that
// watch event: it reads the leases and brings one node in line with them.

// %% labbook={"id": "leave", "role": "step"}
// Revoke node3's lease: its key goes with it; node3's flannel state goes; node1 and node2 catch up
const ttls = await sh(node1, `for id in $(${ETCDCTL} lease list | tail -n +2); do ${ETCDCTL} lease timetolive $id --keys; done`);
const node3Lease = /lease ([0-9a-f]+) granted[^\n]*10\.244\.3\.0-24/.exec(ttls.stdout)![1];
await sh(node1, `${ETCDCTL} lease revoke ${node3Lease}`);
await sh(node1, `${ETCDCTL} get --prefix --keys-only /coreos.com/network/subnets/`);
await clearBackend(node3);
await sh(node3, "rm /run/flannel/subnet.env");
await programNode(c, node1, "vxlan");
await programNode(c, node2, "vxlan");

// %% labbook={"id": "check-leave", "role": "check"}
// Check: no lease for node3; node1 no longer routes 10.244.3.0/24; node1 and node2 still reach each other
await check("node3's key is gone from etcd with its lease", async () => {
  const keys = (await node1.$`sh -c ${`${ETCDCTL} get --prefix --keys-only /coreos.com/network/subnets/`}`).lines().filter(Boolean);
  if (keys.some((k) => k.endsWith("10.244.3.0-24"))) throw new Error(`keys: ${keys.join(", ")}`);
  return `keys left: ${keys.join(", ")}`;
});
await check("node1 has no route, neighbour or fdb entry for node3 any more", async () => {
  const state = (await node1.$({ nothrow: true })`sh -c ${"ip route show 10.244.3.0/24; ip neigh show 10.244.3.0 dev flannel.1; bridge fdb show dev flannel.1 | grep 192.168.0.13"}`).stdout.trim();
  if (state) throw new Error(state);
  return "nothing for 10.244.3.0/24 or 192.168.0.13";
});
await check("node1's and node2's pods still reach each other", () => podMesh([node1, node2]), { within: 5000 });

// %% [markdown]
// ## Exercise: node3 rejoins, in vxlan mode
//
// Do what node3's flanneld does when it starts, then what node1's and node2's flanneld do when they see
// its new lease:
//
// 1. on node3, create `flannel.1` as in section 6 (VNI 1, `local 192.168.0.13`, `dev eth0`, port 8472,
//    `nolearning`), MTU 1450, up, with the address `10.244.3.0/32`;
// 2. lease `10.244.3.0/24`: `lease grant 86400`, then `put --lease=<id>` the key
//    `/coreos.com/network/subnets/10.244.3.0-24` with PublicIP `192.168.0.13`, BackendType `vxlan` and
//    BackendData `{"VtepMAC": <node3's flannel.1 MAC>}`;
// 3. write node3's `/run/flannel/subnet.env` (`FLANNEL_SUBNET=10.244.3.1/24`, `FLANNEL_MTU=1450`);
// 4. program node3 from the leases, and node1 and node2 too: `programNode(c, node, "vxlan")` for each
//    (or the `ip route`/`ip neigh`/`bridge fdb` commands of section 6).
//
// node3's pod is still there, at `10.244.3.2` with MTU 1450.

// %% labbook={"id": "exercise-rejoin", "role": "exercise", "points": 5}
// Your turn: node3 rejoins the vxlan network
// 1. flannel.1 on node3:
// await runShown(node3, [`ip link add flannel.1 type vxlan id 1 local ... dev eth0 dstport 8472 nolearning`, ...]);
// const mac3 = (await sh(node3, "cat /sys/class/net/flannel.1/address")).stdout.trim();
// 2. the lease and the key:
// const grant3 = await sh(node3, `${ETCDCTL} lease grant 86400`);
// ... put --lease=<id> /coreos.com/network/subnets/10.244.3.0-24 '{"PublicIP":...,"BackendType":"vxlan","BackendData":{"VtepMAC":...}}'
// 3. subnet.env:
// await sh(node3, `mkdir -p /run/flannel && printf '%s\\n' ... > /run/flannel/subnet.env`);
// 4. every node reads the leases and programs itself:
// for (const node of nodes) await programNode(c, node, "vxlan");

// %% labbook={"id": "solution-rejoin", "role": "solution", "points": 5}
// Solution: flannel.1 on node3, a lease with its VtepMAC, subnet.env, then every node programs itself
await runShown(node3, [
  `ip link add flannel.1 type vxlan id 1 local 192.168.0.13 dev ${node3.lanInterface} dstport 8472 nolearning`,
  "ip link set flannel.1 mtu 1450 up",
  "ip addr add 10.244.3.0/32 dev flannel.1",
]);
const mac3 = (await sh(node3, "cat /sys/class/net/flannel.1/address")).stdout.trim();
const grant3 = await sh(node3, `${ETCDCTL} lease grant 86400`);
const lease3 = /lease ([0-9a-f]+) granted/.exec(grant3.stdout)![1];
const value3 = { PublicIP: "192.168.0.13", BackendType: "vxlan", BackendData: { VtepMAC: mac3 } };
await sh(node3, `${ETCDCTL} put --lease=${lease3} /coreos.com/network/subnets/10.244.3.0-24 '${JSON.stringify(value3)}'`);
await sh(node3, `mkdir -p /run/flannel && printf '%s\\n' FLANNEL_NETWORK=10.244.0.0/16 FLANNEL_SUBNET=10.244.3.1/24 FLANNEL_MTU=1450 FLANNEL_IPMASQ=false > /run/flannel/subnet.env`);
for (const node of nodes) await programNode(c, node, "vxlan");

// %% [raw] labbook={"id": "grader-setup", "role": "grader-setup"}
// // Grader setup: hidden checks run in a fresh kernel when grading, on the cluster the cells above built
// import { cluster, check, podMesh, flannelShape, flannelLeaseKeys, onlyWith } from "labbook";
// const c = await cluster();
// const [node1, node2, node3] = [c.node("node1"), c.node("node2"), c.node("node3")];
// const nodes = [node1, node2, node3];

// %% labbook={"id": "hidden-lease", "role": "hidden-check", "hint": "The key is /coreos.com/network/subnets/10.244.3.0-24, put with --lease=<id> from `lease grant 86400`. Its value is {\"PublicIP\":\"192.168.0.13\",\"BackendType\":\"vxlan\",\"BackendData\":{\"VtepMAC\":\"<cat /sys/class/net/flannel.1/address on node3>\"}}. Create flannel.1 before you write the lease."}
// Hidden check: node3's lease is back, on a live TTL lease, with node3's flannel.1 MAC
await check("node3 holds 10.244.3.0/24 again: vxlan, VtepMAC = its flannel.1 MAC, on a live lease", () => flannelLeaseKeys(c, [node3], "vxlan"), { points: 1 });

// %% labbook={"id": "hidden-shape", "role": "hidden-check", "hint": "node3 needs flannel.1 (vxlan id 1, dstport 8472, nolearning, MTU 1450) and subnet.env with FLANNEL_MTU=1450. node1 and node2 learn node3 only by reading the leases again: programNode(c, node1, \"vxlan\") and the same for node2 (and node3)."}
// Hidden check: every node has vxlan's shape, and node1 and node2 send node3's MAC to 192.168.0.13
await check("all three nodes have vxlan's shape, with node3 among the peers", async () => {
  const seen: string[] = [];
  for (const node of nodes) seen.push(await flannelShape(c, node, "vxlan"));
  for (const node of [node1, node2]) {
    const fdb = (await node.$`bridge fdb show dev flannel.1`).stdout;
    if (!fdb.includes("dst 192.168.0.13")) throw new Error(`${node.name} has no fdb entry for node3:\n${fdb}`);
  }
  return seen.join("\n");
}, { points: 2 });

// %% labbook={"id": "hidden-mesh", "role": "hidden-check", "hint": "If node3's pod is unreachable, compare `ip route`, `ip neigh show dev flannel.1` and `bridge fdb show dev flannel.1` on node1 with node3's lease: the route goes via 10.244.3.0 onlink, the neighbour and fdb entries use node3's VtepMAC."}
// Hidden check: all three pods reach each other again
await check("every pod pings every pod, node3's included", () => podMesh(nodes), { within: 5000, points: 1 });

// %% labbook={"id": "hidden-real-pods", "role": "hidden-check", "requires": ["kubernetes"], "hint": "The real pods real-1 and real-3 (section 9) live on node1's and node3's cni0, at addresses from 10.244.1.0/24 and 10.244.3.0/24. They reach each other once node1 routes 10.244.3.0/24 into flannel.1 and node3 routes 10.244.1.0/24 back: the same programNode calls as for your pods."}
// Hidden check: the real Kubernetes pods on node1 and node3 reach each other over node3's rejoined vxlan
await onlyWith(c, "kubernetes", async () => {
  await check("real-1 (node1) and real-3 (node3) ping each other", async () => {
    const ips = String(await node1.$`kubectl get pod real-1 real-3 -o jsonpath={.items[*].status.podIP}`).trim().split(" ");
    const there = await node1.run(`kubectl exec real-1 -- ping -c1 -W2 ${ips[1]}`, { nothrow: true });
    const back = await node1.run(`kubectl exec real-3 -- ping -c1 -W2 ${ips[0]}`, { nothrow: true });
    if (!there.ok || !back.ok) throw new Error(`real-1 ${ips[0]} -> real-3 ${ips[1]}: ${there.ok ? "answered" : "no answer"}; back: ${back.ok ? "answered" : "no answer"}`);
    return `real-1 ${ips[0]} <-> real-3 ${ips[1]}: both answered`;
  }, { within: 5000, points: 1 });
});

// %% [markdown]
// ## What you built
//
// You did flanneld's work on three nodes: a network config and one TTL lease per node in etcd,
// `subnet.env` for the CNI plugin, and each backend's kernel state, built only from the leases:
//
// - **host-gw**: one route per peer, via its node IP. No encapsulation, full MTU, one L2 network needed.
// - **vxlan**: `flannel.1` (VNI 1, UDP 8472, `nolearning`) and, per peer, an onlink route, a permanent
//   neighbour and an fdb entry, with the VtepMAC from the lease. MTU 1450.
// - **udp**: `flannel0`, a TUN device, and a userspace relay on UDP 8285 that looks up the lease
//   of each packet's destination. MTU 1472, and every packet goes through a process.
//
// A lease that expires or is revoked takes its key with it, and the other nodes unwire that subnet.
// `setupFlannel(c, backend)` does all of it in one call; lab 06 uses it to compare the backends' speed.
//
// Then the real flanneld (v0.28.10, etcd subnet manager, on Kubernetes v1.35.4) did the same from the
// same etcd: it leased the same /24s (from `subnet.env`, then from its own `PublicIP`), wrote
// `subnet.env`, and built, for vxlan and host-gw, exactly your devices, routes, neighbour and fdb
// entries, line by line. For udp, the same but `flannel0`'s address (`/32` and an explicit route) and
// a lease without `BackendType`. Real pods, made by kubelet through flannel's CNI plugin, took
// addresses from those /24s on your `cni0`, and reached your pods and each other in every mode.
