// ---
// jupyter:
//   kernelspec:
//     display_name: TypeScript (labbook)
//     language: typescript
//     name: labbook-tslab
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
// No flanneld binary exists here, so you are flanneld: every etcd write and every `ip` command is
// printed before it runs.

// %% labbook={"id": "setup", "role": "setup"}
// Connect; the SDK's flannel helpers (readLeases, setupFlannel, programNode, …) print every command they run
import { cluster, check, sh, runShown, capture, addContainer, inContainer, nodeNumber, readLeases, setupFlannel,
  programNode, clearBackend, podMesh, flannelShape, flannelLeaseKeys } from "labbook";

const c = await cluster({ fresh: true });
const [node1, node2, node3] = [c.node("node1"), c.node("node2"), c.node("node3")];
const nodes = [node1, node2, node3];
/** etcdctl with the v3 API, talking to etcd in node1: the same on every node. */
const ETCDCTL = "ETCDCTL_API=3 etcdctl --endpoints=http://192.168.0.11:2379";

// %% [markdown]
// ## 1. etcd in node1
//
// A real cluster runs three or five etcd members. One is enough here: Debian's `etcd-server`, with its
// data in node1's private `/var/lib/etcd`. It serves clients on `192.168.0.11:2379`, so the other
// nodes' flanneld can reach it, and on `127.0.0.1:2379`.
//
// **Which API?** This lab uses etcd's **v3 API** (`ETCDCTL_API=3`, the default of etcdctl 3.4). The
// lesson's flanneld spoke the older **v2 API**, where a key has its own TTL (`etcdctl set --ttl 86400`).
// etcd 3.4 serves v2 only when started with `--enable-v2`, and v2 is gone from etcd 3.6. flanneld itself
// moved to v3, with the same key paths. In v3, a TTL belongs to a **lease**: `etcdctl lease grant 86400`
// creates one, `put --lease=<id>` attaches a key to it, and when the lease expires (or is revoked) every
// key attached to it is deleted. flanneld renews its lease before it runs out.

// %% labbook={"id": "etcd", "role": "step"}
// Start etcd in node1, detached, and wait (deadline 20 s) until it answers
await sh(node1, "setsid -f etcd --name node1 --data-dir /var/lib/etcd --listen-client-urls http://192.168.0.11:2379,http://127.0.0.1:2379 --advertise-client-urls http://192.168.0.11:2379 --listen-peer-urls http://127.0.0.1:2380 > /var/log/etcd.log 2>&1");
await runShown(node1, [`timeout 20 sh -c 'until ${ETCDCTL} endpoint health 2>/dev/null; do sleep 0.2; done'`]);

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
    if (lease.publicIP !== node.ip) await sh(node, `ip route add ${lease.subnet} via ${lease.publicIP} dev eth0`);
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
const hostgwPackets = await capture(node2, { iface: "eth0", filter: "net 10.244.0.0/16 or udp", count: 2 },
  () => inContainer(node1, "pod", "ping -c1 -W1 10.244.2.2"));

// %% labbook={"id": "check-hostgw-wire", "role": "check"}
// Check: host-gw puts the pods' own addresses on the wire, with no encapsulation
await check("host-gw: node2's eth0 sees 10.244.1.2 > 10.244.2.2 ICMP, not inside UDP", () => {
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
    `ip link add flannel.1 type vxlan id 1 local ${node.ip} dev eth0 dstport 8472 nolearning`,
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
const vxlanPackets = await capture(node2, { iface: "eth0", filter: "udp port 8472 or icmp", count: 2, flags: ["-T", "vxlan"] },
  () => inContainer(node1, "pod", "ping -c1 -W1 10.244.2.2"));

// %% labbook={"id": "check-vxlan-wire", "role": "check"}
// Check: on the wire, node-to-node UDP 8472 with VNI 1, and the pods' packet inside it
await check("vxlan: node2's eth0 sees 192.168.0.11 > 192.168.0.12.8472 VXLAN vni 1, carrying 10.244.1.2 > 10.244.2.2", () => {
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
const udpPackets = await capture(node2, { iface: "eth0", filter: "udp port 8285 or icmp", count: 2 },
  () => inContainer(node1, "pod", "ping -c1 -W1 10.244.2.2"));

// %% labbook={"id": "check-udp-wire", "role": "check"}
// Check: node to node on UDP 8285, 84 bytes: the pod's whole ICMP packet (20 + 64) is the payload
await check("udp: node2's eth0 sees 192.168.0.11.8285 > 192.168.0.12.8285, UDP length 84, and no bare ICMP", () => {
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
console.log(hostgwLeases.map((l) => `${l.node}: ${l.subnet} via ${l.publicIP}`).join("\n"));

// %% labbook={"id": "check-switch-hostgw", "role": "check"}
// Check: host-gw's shape again, with the relay and flannel0 gone
await check("host-gw again: every pod pings every pod", () => podMesh(nodes), { within: 5000 });
for (const node of nodes) await check(`${node.name}: host-gw shape, no relay, no flannel0`, () => flannelShape(c, node, "host-gw"));

// %% labbook={"id": "switch-vxlan", "role": "step"}
// host-gw -> vxlan
const vxlanLeases = await setupFlannel(c, "vxlan");
console.log(vxlanLeases.map((l) => `${l.node}: ${l.subnet} VtepMAC ${String(l.backendData.VtepMAC)}`).join("\n"));

// %% labbook={"id": "check-switch-vxlan", "role": "check"}
// Check: vxlan's shape again, with host-gw's routes gone
await check("vxlan again: every pod pings every pod", () => podMesh(nodes), { within: 5000 });
for (const node of nodes) await check(`${node.name}: vxlan shape, no routes via node IPs`, () => flannelShape(c, node, "vxlan"));
await check("each lease says vxlan, with the new flannel.1 MACs", () => flannelLeaseKeys(c, nodes, "vxlan"));

// %% [markdown]
// ## 9. node3 leaves
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

// %% labbook={"id": "exercise-rejoin", "role": "exercise", "points": 4}
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

// %% labbook={"id": "solution-rejoin", "role": "solution", "points": 4}
// Solution: flannel.1 on node3, a lease with its VtepMAC, subnet.env, then every node programs itself
await runShown(node3, [
  "ip link add flannel.1 type vxlan id 1 local 192.168.0.13 dev eth0 dstport 8472 nolearning",
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
// import { cluster, check, podMesh, flannelShape, flannelLeaseKeys } from "labbook";
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
