// Flannel by hand (lab 05), and the one-call backend switch that lab 06 uses: etcd in node1,
// the network config and one TTL lease per node under /coreos.com/network/, each node's
// /run/flannel/subnet.env, and the kernel state each backend (host-gw, vxlan, udp) programs
// from the leases, the way flanneld does it. Every command that changes something is printed.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Cluster } from "../cluster/cluster.ts";
import type { Node } from "../cluster/node.ts";
import { ensurePod, nodeNumber, podSubnet } from "./pod-network.ts";
import { sh } from "./show.ts";
import { scaledSeconds, timeScale } from "./time-scale.ts";

export type FlannelBackend = "host-gw" | "vxlan" | "udp";

/** One node's subnet lease, as read back from etcd. */
export interface FlannelLease {
  /** The node whose PublicIP the lease names ("" if no node of the cluster has it). */
  node: string;
  /** e.g. 10.244.2.0/24 */
  subnet: string;
  publicIP: string;
  backendType: FlannelBackend;
  backendData: Record<string, unknown>;
  /** e.g. /coreos.com/network/subnets/10.244.2.0-24 */
  key: string;
}

/** flannel's etcd prefix (its -etcd-prefix default). */
export const FLANNEL_PREFIX = "/coreos.com/network";
/** The cluster's pod network, which every node's /24 comes out of. */
export const FLANNEL_NETWORK = "10.244.0.0/16";
/** The lease's TTL: flanneld's default --subnet-lease-renew-margin works against a 24 h lease. */
export const FLANNEL_LEASE_TTL_S = 86400;
/** vxlan: VNI 1 gives the device name flannel.1; 8472 is the Linux kernel's (and flannel's) port. */
export const FLANNEL_VXLAN = { device: "flannel.1", vni: 1, port: 8472, mtu: 1450 } as const;
/** udp: flanneld's TUN device and its UDP port. MTU 1472 = 1500 - 20 (outer IP) - 8 (UDP). */
export const FLANNEL_UDP = { device: "flannel0", port: 8285, mtu: 1472 } as const;
/** host-gw sends pod packets as they are: the node's own MTU. */
export const FLANNEL_HOSTGW = { mtu: 1500 } as const;

const RELAY_SOURCE = fileURLToPath(new URL("./flannel-udp-relay.py", import.meta.url));
const RELAY_PATH = "/run/flannel/udp-relay.py";
const RELAY_PID = "/run/flannel/udp-relay.pid";
const RELAY_ARGS = "/run/flannel/udp-relay.args";

/** The MTU of the flannel device, and of the pods' eth0 (FLANNEL_MTU), for each backend. */
export function flannelMtu(backend: FlannelBackend): number {
  return backend === "vxlan" ? FLANNEL_VXLAN.mtu : backend === "udp" ? FLANNEL_UDP.mtu : FLANNEL_HOSTGW.mtu;
}

/** The etcd key flannel uses for a subnet: 10.244.2.0/24 -> /coreos.com/network/subnets/10.244.2.0-24. */
export function subnetKey(subnet: string): string {
  return `${FLANNEL_PREFIX}/subnets/${subnet.replace("/", "-")}`;
}

// Where etcd runs, per cluster: set by startEtcd, node1 otherwise.
const etcdNodes = new WeakMap<Cluster, Node>();

/** The node whose etcd holds flannel's keys: the one startEtcd started it on, node1 otherwise. */
export function etcdNode(cluster: Cluster): Node {
  return etcdNodes.get(cluster) ?? cluster.nodes.find((n) => n.name === "node1") ?? cluster.nodes[0]!;
}

/** `etcdctl` with the v3 API, talking to etcd on `etcdNode`. */
export function etcdctl(etcdNode: Node): string {
  return `ETCDCTL_API=3 etcdctl --endpoints=http://${etcdNode.ip}:2379`;
}

/** Runs a command without printing it: for looking at state before deciding what to change. */
function look(node: Node, command: string) {
  return node.run(command, { nothrow: true });
}

/**
 * Starts etcd on `host` (node1) unless it already answers; waits until it is healthy. It listens on the node's
 * own address only, with its data in /var/lib/flannel-etcd: a Kubernetes node's own etcd holds
 * 127.0.0.1:2379/2380 and /var/lib/etcd.
 */
export async function startEtcd(cluster: Cluster, host: Node = etcdNode(cluster)): Promise<void> {
  etcdNodes.set(cluster, host);
  const ctl = etcdctl(host);
  if ((await look(host, `${ctl} endpoint health`)).ok) {
    console.log(`${host.name}: etcd is already running (${ctl} endpoint health)`);
    return;
  }
  const client = `http://${host.ip}:2379`;
  const peer = `http://${host.ip}:2380`;
  await sh(host, `setsid -f etcd --name flannel --data-dir /var/lib/flannel-etcd --listen-client-urls ${client} --advertise-client-urls ${client} --listen-peer-urls ${peer} --initial-advertise-peer-urls ${peer} --initial-cluster flannel=${peer} > /var/log/flannel-etcd.log 2>&1`);
  await sh(host, `timeout ${scaledSeconds(20)} sh -c 'until ${ctl} endpoint health 2>/dev/null; do sleep 0.2; done'`);
}

/** The JSON flanneld reads at /coreos.com/network/config. */
export function networkConfig(backend: FlannelBackend): Record<string, unknown> {
  const Backend: Record<string, unknown> = { Type: backend };
  if (backend === "vxlan") Object.assign(Backend, { VNI: FLANNEL_VXLAN.vni, Port: FLANNEL_VXLAN.port });
  if (backend === "udp") Object.assign(Backend, { Port: FLANNEL_UDP.port });
  return { Network: FLANNEL_NETWORK, SubnetLen: 24, Backend };
}

/** Writes /coreos.com/network/config for `backend`. */
export async function writeNetworkConfig(cluster: Cluster, backend: FlannelBackend): Promise<void> {
  const host = etcdNode(cluster);
  await sh(host, `${etcdctl(host)} put ${FLANNEL_PREFIX}/config '${JSON.stringify(networkConfig(backend))}'`);
}

/**
 * Leases `node`'s /24 (10.244.N.0/24) for `backend`: the key names the subnet, the value says
 * where to send its packets and how. A new key is attached to a fresh 24 h lease; an existing
 * key of this node keeps its lease (flanneld renews the lease it already holds) and gets the new value.
 */
export async function leaseSubnet(cluster: Cluster, node: Node, backend: FlannelBackend, backendData: Record<string, unknown> = {}): Promise<FlannelLease> {
  const ctl = etcdctl(etcdNode(cluster));
  const subnet = podSubnet(node);
  const key = subnetKey(subnet);
  const value = JSON.stringify({ PublicIP: node.ip, BackendType: backend, BackendData: backendData });
  const existing = await look(node, `${ctl} get ${key} -w json`);
  const kv = existing.ok ? (existing.json<{ kvs?: Array<{ lease?: number; value: string }> }>().kvs ?? [])[0] : undefined;
  const ours = kv?.lease !== undefined && kv.lease !== 0 && (JSON.parse(Buffer.from(kv.value, "base64").toString()) as { PublicIP?: string }).PublicIP === node.ip;
  if (ours) {
    await sh(node, `${ctl} put --ignore-lease ${key} '${value}'`);
  } else {
    const grant = await sh(node, `${ctl} lease grant ${FLANNEL_LEASE_TTL_S}`);
    const id = /lease ([0-9a-f]+) granted/.exec(grant.stdout)?.[1];
    if (!id) throw new Error(`${node.name}: no lease id in "${grant.stdout.trim()}"`);
    await sh(node, `${ctl} put --lease=${id} ${key} '${value}'`);
  }
  return { node: node.name, subnet, publicIP: node.ip, backendType: backend, backendData, key };
}

/** Writes `node`'s /run/flannel/subnet.env, which flannel's CNI plugin reads for every pod. */
export async function writeSubnetEnv(node: Node, lease: FlannelLease, backend: FlannelBackend = lease.backendType): Promise<void> {
  const gateway = lease.subnet.replace(/\.0\/24$/, ".1/24");
  const env = [`FLANNEL_NETWORK=${FLANNEL_NETWORK}`, `FLANNEL_SUBNET=${gateway}`, `FLANNEL_MTU=${flannelMtu(backend)}`, "FLANNEL_IPMASQ=false"];
  await sh(node, `mkdir -p /run/flannel && printf '%s\\n' ${env.join(" ")} > /run/flannel/subnet.env`);
}

/** Every lease under /coreos.com/network/subnets/, read from etcd on `from` (printed). */
export async function readLeases(cluster: Cluster, from: Node = etcdNode(cluster), options: { quiet?: boolean } = {}): Promise<FlannelLease[]> {
  const command = `${etcdctl(etcdNode(cluster))} get --prefix ${FLANNEL_PREFIX}/subnets/`;
  const listing = options.quiet ? await from.run(command) : await sh(from, command);
  const lines = listing.lines();
  const leases: FlannelLease[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const key = lines[i]!;
    const value = JSON.parse(lines[i + 1]!) as { PublicIP: string; BackendType: FlannelBackend; BackendData?: Record<string, unknown> | null };
    const subnet = key.slice(`${FLANNEL_PREFIX}/subnets/`.length).replace("-", "/");
    const owner = cluster.nodes.find((n) => n.ip === value.PublicIP);
    leases.push({ node: owner?.name ?? "", subnet, publicIP: value.PublicIP, backendType: value.BackendType, backendData: value.BackendData ?? {}, key });
  }
  return leases;
}

interface Route { dst: string; gateway?: string; dev?: string; protocol?: string; flags?: string[] }

/** Routes into the pod network that are not this node's own subnet on cni0, nor a device's own. */
async function podNetworkRoutes(node: Node): Promise<Route[]> {
  const routes = (await node.$`ip -j route show root ${FLANNEL_NETWORK}`).json<Route[]>();
  return routes.filter((r) => r.dev !== "cni0" && r.protocol !== "kernel");
}

const routeDelete = (r: Route) => `ip route del ${r.dst}${r.gateway ? ` via ${r.gateway}` : ""}${r.dev ? ` dev ${r.dev}` : ""}`;

async function linkExists(node: Node, device: string): Promise<boolean> {
  return (await look(node, `ip link show ${device}`)).ok;
}

/**
 * Removes flannel's backend state from `node`, except that of `keep`: routes to other nodes'
 * subnets, flannel.1 (with its fdb and neighbour entries), the udp relay and flannel0.
 */
export async function clearBackend(node: Node, keep?: FlannelBackend): Promise<void> {
  const flannelDevices: string[] = [FLANNEL_VXLAN.device, FLANNEL_UDP.device];
  for (const route of await podNetworkRoutes(node)) {
    if (keep === "host-gw" && route.dev === node.lanInterface) continue;
    // A route on flannel.1 or flannel0 goes with its device, below (or stays, if it is `keep`'s).
    if (route.dev !== undefined && flannelDevices.includes(route.dev)) continue;
    await sh(node, routeDelete(route));
  }
  if (keep !== "vxlan" && (await linkExists(node, FLANNEL_VXLAN.device))) await sh(node, `ip link del ${FLANNEL_VXLAN.device}`);
  if (keep !== "udp") {
    const pid = (await look(node, `cat ${RELAY_PID}`)).stdout.trim();
    if (pid && (await look(node, `kill -0 ${pid}`)).ok) await sh(node, `kill ${pid}    # the udp relay, its pid from ${RELAY_PID}`);
    if (pid) await node.run(`rm -f ${RELAY_PID} ${RELAY_ARGS}`);
    if (await linkExists(node, FLANNEL_UDP.device)) await sh(node, `ip link del ${FLANNEL_UDP.device}`);
  }
}

/** Creates flannel.1 on `node` unless it is there; returns its MAC address (the VtepMAC). */
export async function ensureVxlanDevice(node: Node, mac?: string): Promise<string> {
  const dev = FLANNEL_VXLAN.device;
  if (!(await linkExists(node, dev))) {
    await sh(node, `ip link add ${dev}${mac ? ` address ${mac}` : ""} type vxlan id ${FLANNEL_VXLAN.vni} local ${node.ip} dev ${node.lanInterface} dstport ${FLANNEL_VXLAN.port} nolearning`);
    await sh(node, `ip link set ${dev} mtu ${FLANNEL_VXLAN.mtu} up`);
    await sh(node, `ip addr add ${podSubnet(node).replace("/24", "/32")} dev ${dev}`);
  }
  return (await node.$`cat /sys/class/net/${dev}/address`).toString().trim();
}

/** Creates the TUN device flannel0 on `node` unless it is there: 10.244.N.0/16, so the whole network routes into it. */
export async function ensureTunDevice(node: Node): Promise<void> {
  const dev = FLANNEL_UDP.device;
  if (await linkExists(node, dev)) return;
  await sh(node, `ip tuntap add dev ${dev} mode tun`);
  await sh(node, `ip link set ${dev} mtu ${FLANNEL_UDP.mtu} up`);
  await sh(node, `ip addr add ${podSubnet(node).replace("/24", "/16")} dev ${dev}`);
}

/** What a backend's lease carries in BackendData, creating the device it describes. */
async function ensureDevice(node: Node, backend: FlannelBackend, own?: FlannelLease): Promise<Record<string, unknown>> {
  if (backend === "vxlan") {
    const known = typeof own?.backendData.VtepMAC === "string" ? own.backendData.VtepMAC : undefined;
    return { VtepMAC: await ensureVxlanDevice(node, known) };
  }
  if (backend === "udp") await ensureTunDevice(node);
  return {};
}

/** Sets the pod's eth0 (and its bridge port) to `mtu`, as flannel's CNI plugin does from FLANNEL_MTU. */
async function setPodMtu(node: Node, mtu: number): Promise<void> {
  const current = (await look(node, "ip netns exec pod cat /sys/class/net/eth0/mtu")).stdout.trim();
  if (current === String(mtu)) return;
  await sh(node, `ip link set veth-pod mtu ${mtu}`);
  await sh(node, `ip -n pod link set eth0 mtu ${mtu}`);
}

/** Reads every lease from etcd and programs one node for its backend (what flanneld does on a watch event). */
export async function programNode(cluster: Cluster, node: Node, backend: FlannelBackend): Promise<void> {
  const leases = await readLeases(cluster, node);
  const own = leases.find((l) => l.publicIP === node.ip);
  if (!own) throw new Error(`${node.name} holds no lease in etcd: lease a subnet for it first`);
  // Peers of the same backend, as flanneld does: a lease of another type is ignored.
  const peers = leases.filter((l) => l !== own && l.backendType === backend);
  await clearBackend(node, backend);
  if ((await look(node, "cat /proc/sys/net/ipv4/ip_forward")).stdout.trim() !== "1") await sh(node, "sysctl -w net.ipv4.ip_forward=1");
  await ensureDevice(node, backend, own);

  const routes = await podNetworkRoutes(node);
  const wanted = new Map<string, { via: string; dev: string }>();
  for (const peer of peers) {
    if (backend === "host-gw") wanted.set(peer.subnet, { via: peer.publicIP, dev: node.lanInterface });
    if (backend === "vxlan") wanted.set(peer.subnet, { via: peer.subnet.replace("/24", ""), dev: FLANNEL_VXLAN.device });
  }
  // Routes to subnets whose lease is gone (or has changed) go first.
  for (const route of routes) {
    const want = wanted.get(route.dst);
    if (backend === "udp" && route.dev === FLANNEL_UDP.device) continue;
    if (!want || want.via !== route.gateway || want.dev !== route.dev) await sh(node, routeDelete(route));
  }
  const present = new Set((await podNetworkRoutes(node)).map((r) => `${r.dst} ${r.gateway} ${r.dev}`));

  if (backend === "vxlan") {
    const dev = FLANNEL_VXLAN.device;
    const macs = new Map(peers.map((p) => [p.subnet.replace("/24", ""), String(p.backendData.VtepMAC)]));
    const neighs = (await node.$`ip -j neigh show dev ${dev}`).json<Array<{ dst: string; lladdr?: string }>>();
    for (const n of neighs) if (macs.get(n.dst) !== n.lladdr) await sh(node, `ip neigh del ${n.dst} dev ${dev}`);
    const fdb = (await node.$`bridge -j fdb show dev ${dev}`).json<Array<{ mac: string; dst?: string }>>();
    const fdbWanted = new Set(peers.map((p) => `${String(p.backendData.VtepMAC)} ${p.publicIP}`));
    for (const f of fdb) if (f.dst && !fdbWanted.has(`${f.mac} ${f.dst}`)) await sh(node, `bridge fdb del ${f.mac} dev ${dev} dst ${f.dst}`);
    const neighSet = new Set(neighs.map((n) => `${n.dst} ${n.lladdr}`));
    const fdbSet = new Set(fdb.map((f) => `${f.mac} ${f.dst}`));
    for (const peer of peers) {
      const vtep = peer.subnet.replace("/24", ""); // the peer's flannel.1 address, 10.244.M.0
      const mac = String(peer.backendData.VtepMAC);
      if (!present.has(`${peer.subnet} ${vtep} ${dev}`)) await sh(node, `ip route add ${peer.subnet} via ${vtep} dev ${dev} onlink`);
      if (!neighSet.has(`${vtep} ${mac}`)) await sh(node, `ip neigh add ${vtep} lladdr ${mac} dev ${dev} nud permanent`);
      if (!fdbSet.has(`${mac} ${peer.publicIP}`)) await sh(node, `bridge fdb append ${mac} dev ${dev} dst ${peer.publicIP}`);
    }
  } else if (backend === "host-gw") {
    for (const peer of peers) {
      if (!present.has(`${peer.subnet} ${peer.publicIP} ${node.lanInterface}`)) await sh(node, `ip route add ${peer.subnet} via ${peer.publicIP} dev ${node.lanInterface}`);
    }
  } else {
    await programRelay(node, peers);
  }
}

/** Starts (or restarts, when the leases changed) the udp relay with a table of peer subnets. */
async function programRelay(node: Node, peers: FlannelLease[]): Promise<void> {
  const table = peers.map((p) => `${p.subnet}=${p.publicIP}`).join(" ");
  const args = `${FLANNEL_UDP.device} ${FLANNEL_UDP.port} ${RELAY_PID} ${table}`;
  const pid = (await look(node, `cat ${RELAY_PID}`)).stdout.trim();
  const running = pid !== "" && (await look(node, `kill -0 ${pid}`)).ok;
  if (running && (await look(node, `cat ${RELAY_ARGS}`)).stdout.trim() === args) return;
  if (running) {
    await sh(node, `kill ${pid}    # the relay's table is out of date`);
    await sh(node, `timeout ${scaledSeconds(5)} sh -c 'while kill -0 ${pid} 2>/dev/null; do sleep 0.1; done'`);
  }
  if (!(await look(node, `test -f ${RELAY_PATH}`)).ok) {
    console.log(`${node.name}# cat > ${RELAY_PATH}    # runner/sdk/flannel-udp-relay.py, uploaded`);
    await node.put(await readFile(RELAY_SOURCE), RELAY_PATH, 0o755);
  }
  await node.run(`rm -f ${RELAY_PID}; echo ${JSON.stringify(args)} > ${RELAY_ARGS}`);
  await sh(node, `setsid -f python3 ${RELAY_PATH} ${args} > /var/log/flannel-udp.log 2>&1`);
  await sh(node, `timeout ${scaledSeconds(5)} sh -c 'until [ -s ${RELAY_PID} ]; do sleep 0.1; done'`);
}

/** Starts etcd on `etcdNode` (node1) if not running, writes /coreos.com/network/config for `backend`, leases a /24 for each of `nodes` (default: all nodes of the cluster), writes each node's /run/flannel/subnet.env, creates a pod netns "pod" at 10.244.N.2 on cni0 in each node if missing, and programs every node for `backend`, removing any previous backend's state first. Prints every command. Returns the leases. */
export async function setupFlannel(cluster: Cluster, backend: FlannelBackend, options: { nodes?: Node[]; etcdNode?: Node } = {}): Promise<FlannelLease[]> {
  const nodes = options.nodes ?? [...cluster.nodes];
  await startEtcd(cluster, options.etcdNode ?? etcdNode(cluster));
  await writeNetworkConfig(cluster, backend);
  const leases: FlannelLease[] = [];
  for (const node of nodes) {
    await clearBackend(node, backend);
    const backendData = await ensureDevice(node, backend);
    const lease = await leaseSubnet(cluster, node, backend, backendData);
    await writeSubnetEnv(node, lease, backend);
    await ensurePod(node);
    await setPodMtu(node, flannelMtu(backend));
    leases.push(lease);
  }
  for (const node of nodes) await programNode(cluster, node, backend);
  return leases;
}

// Probes for check(): each returns what it saw when the expectation holds and throws what it saw otherwise.

/** Every pod "pod" on `nodes` pings every other one (10.244.N.2). */
export async function podMesh(nodes: readonly Node[]): Promise<string> {
  const failed: string[] = [];
  let pairs = 0;
  await Promise.all(nodes.map(async (from) => {
    for (const to of nodes) {
      if (to === from) continue;
      pairs++;
      const target = `10.244.${nodeNumber(to)}.2`;
      // One second on a real machine; VMs under emulation get the time scale's (vxlan in software both ways).
      const ping = await from.run(`ip netns exec pod ping -c1 -W${Math.ceil(timeScale())} ${target}`, { nothrow: true });
      if (!ping.ok) failed.push(`${from.name}/pod -> ${to.name}/pod ${target}`);
    }
  }));
  if (failed.length) throw new Error(`${failed.length} of ${pairs} pod pairs get no answer: ${failed.sort().join(", ")}`);
  return `all ${pairs} pod pairs ping each other (${nodes.map((n) => `10.244.${nodeNumber(n)}.2`).join(", ")})`;
}

/**
 * `node` has `backend`'s shape and nothing of the others: flannel.1 (vxlan id 1, dstport 8472,
 * nolearning, MTU 1450) with an onlink route, neighbour and fdb entry per peer, only in vxlan
 * mode; routes via the peers' node IPs only in host-gw mode; flannel0 (a TUN, MTU 1472), the
 * /16 into it and a relay on UDP 8285 only in udp mode; and the pod's eth0 at the backend's MTU.
 * The peers are the leases of the same backend in etcd.
 */
export async function flannelShape(cluster: Cluster, node: Node, backend: FlannelBackend): Promise<string> {
  const peers = (await readLeases(cluster, node, { quiet: true })).filter((l) => l.publicIP !== node.ip && l.backendType === backend);
  const problems: string[] = [];
  const seen: string[] = [];
  const routes = (await node.$`ip -j route show root ${FLANNEL_NETWORK}`).json<Route[]>();
  const describe = (r: Route) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ""}${r.dev ? ` dev ${r.dev}` : ""}${r.flags?.includes("onlink") ? " onlink" : ""}`;
  const mtu = flannelMtu(backend);

  const vxlan = await look(node, `ip -d link show ${FLANNEL_VXLAN.device}`);
  if (backend === "vxlan") {
    const dev = FLANNEL_VXLAN.device;
    if (!vxlan.ok) problems.push(`no ${dev}`);
    else {
      const text = vxlan.stdout;
      const shape = /vxlan id (\d+) .*dstport (\d+)/.exec(text);
      if (!shape || shape[1] !== "1" || shape[2] !== "8472") problems.push(`${dev} is not "vxlan id 1 ... dstport 8472": ${/vxlan id .*/.exec(text)?.[0] ?? text.trim()}`);
      if (!/ nolearning /.test(text)) problems.push(`${dev} learns (no nolearning)`);
      if (!text.includes(`mtu ${mtu} `)) problems.push(`${dev} MTU is not ${mtu}`);
      if (!/state (UP|UNKNOWN)/.test(text)) problems.push(`${dev} is down`);
      seen.push(`${dev}: vxlan id 1 dstport 8472 nolearning mtu ${mtu}`);
      const neighs = (await node.$`ip -j neigh show dev ${dev}`).json<Array<{ dst: string; lladdr?: string }>>();
      const fdb = (await node.$`bridge -j fdb show dev ${dev}`).json<Array<{ mac: string; dst?: string }>>();
      for (const peer of peers) {
        const vtep = peer.subnet.replace("/24", "");
        const mac = String(peer.backendData.VtepMAC);
        const route = routes.find((r) => r.dst === peer.subnet);
        if (!route || route.gateway !== vtep || route.dev !== dev || !route.flags?.includes("onlink")) problems.push(`no route ${peer.subnet} via ${vtep} dev ${dev} onlink (has: ${route ? describe(route) : "none"})`);
        if (!neighs.some((n) => n.dst === vtep && n.lladdr === mac)) problems.push(`no neighbour ${vtep} lladdr ${mac}`);
        if (!fdb.some((f) => f.mac === mac && f.dst === peer.publicIP)) problems.push(`no fdb entry ${mac} dst ${peer.publicIP}`);
      }
      seen.push(`per peer: route via 10.244.M.0 onlink, neigh, fdb for ${peers.map((p) => p.publicIP).join(", ") || "no peers"}`);
    }
  } else if (vxlan.ok) problems.push(`${FLANNEL_VXLAN.device} exists in ${backend} mode`);

  const tun = await look(node, `ip -d link show ${FLANNEL_UDP.device}`);
  const relay = (await look(node, `ss -Hulnp 'sport = :${FLANNEL_UDP.port}'`)).stdout.trim();
  if (backend === "udp") {
    const dev = FLANNEL_UDP.device;
    if (!tun.ok) problems.push(`no ${dev}`);
    else {
      if (!/tun type tun/.test(tun.stdout)) problems.push(`${dev} is not a TUN device`);
      if (!tun.stdout.includes(`mtu ${mtu} `)) problems.push(`${dev} MTU is not ${mtu}`);
      seen.push(`${dev}: tun, mtu ${mtu}`);
    }
    if (!routes.some((r) => r.dst === FLANNEL_NETWORK && r.dev === dev)) problems.push(`no route ${FLANNEL_NETWORK} dev ${dev}`);
    if (!relay) problems.push(`nothing listens on UDP ${FLANNEL_UDP.port}`);
    else seen.push(`${FLANNEL_NETWORK} dev ${dev}; relay on udp/${FLANNEL_UDP.port}`);
  } else {
    if (tun.ok) problems.push(`${FLANNEL_UDP.device} exists in ${backend} mode`);
    if (relay) problems.push(`something listens on UDP ${FLANNEL_UDP.port} in ${backend} mode: ${relay}`);
  }

  const viaNodes = routes.filter((r) => r.gateway !== undefined && cluster.nodes.some((n) => n.ip === r.gateway));
  if (backend === "host-gw") {
    for (const peer of peers) {
      if (!routes.some((r) => r.dst === peer.subnet && r.gateway === peer.publicIP && r.dev === node.lanInterface)) problems.push(`no route ${peer.subnet} via ${peer.publicIP} dev ${node.lanInterface}`);
    }
    seen.push(`routes: ${viaNodes.map(describe).join(", ") || "none"}`);
  } else if (viaNodes.length) problems.push(`routes via node IPs in ${backend} mode: ${viaNodes.map(describe).join(", ")}`);

  const podMtu = (await look(node, "ip netns exec pod cat /sys/class/net/eth0/mtu")).stdout.trim();
  if (podMtu !== String(mtu)) problems.push(`the pod's eth0 MTU is ${podMtu || "unknown"}, not ${mtu}`);
  const env = (await look(node, "cat /run/flannel/subnet.env")).stdout;
  if (!env.includes(`FLANNEL_MTU=${mtu}`)) problems.push(`subnet.env does not say FLANNEL_MTU=${mtu}`);
  if (problems.length) throw new Error(`${node.name} (${backend}): ${problems.join("; ")}`);
  return `${node.name} (${backend}): ${seen.join("; ")}; pod MTU ${mtu}`;
}

/**
 * Each of `nodes` holds its subnet's key in etcd, attached to a live TTL lease, with flannel's
 * value shape for `backend` (PublicIP, BackendType, and for vxlan the node's own flannel.1 MAC).
 */
export async function flannelLeaseKeys(cluster: Cluster, nodes: readonly Node[], backend: FlannelBackend): Promise<string> {
  const host = etcdNode(cluster);
  const ctl = etcdctl(host);
  const seen: string[] = [];
  for (const node of nodes) {
    const key = subnetKey(podSubnet(node));
    const raw = (await host.run(`${ctl} get ${key} -w json`)).stdout;
    const kv = (JSON.parse(raw) as { kvs?: Array<{ value: string }> }).kvs?.[0];
    if (!kv) throw new Error(`no key ${key} in etcd (${node.name})`);
    const value = JSON.parse(Buffer.from(kv.value, "base64").toString()) as { PublicIP?: string; BackendType?: string; BackendData?: { VtepMAC?: string } };
    if (value.PublicIP !== node.ip || value.BackendType !== backend) throw new Error(`${key} says ${JSON.stringify(value)}; expected PublicIP ${node.ip}, BackendType ${backend}`);
    if (backend === "vxlan") {
      const mac = (await look(node, `cat /sys/class/net/${FLANNEL_VXLAN.device}/address`)).stdout.trim();
      if (!mac || value.BackendData?.VtepMAC !== mac) throw new Error(`${key} has VtepMAC ${value.BackendData?.VtepMAC ?? "(none)"}, but ${node.name}'s ${FLANNEL_VXLAN.device} is ${mac || "missing"}`);
    }
    // The lease ID is a 64-bit number: too big for a JavaScript number, so it is read as text.
    const leaseId = /"lease":(\d+)/.exec(raw)?.[1];
    if (!leaseId || leaseId === "0") throw new Error(`${key} is not attached to a lease: it would never expire`);
    const hex = BigInt(leaseId).toString(16);
    const ttl = (await host.run(`${ctl} lease timetolive ${hex} --keys`, { nothrow: true })).stdout.trim();
    const remaining = Number(/remaining\((-?\d+)s\)/.exec(ttl)?.[1] ?? -1);
    if (remaining <= 0 || !ttl.includes(key)) throw new Error(`lease ${hex} of ${key}: ${ttl || "not found"}`);
    seen.push(`${key.slice(FLANNEL_PREFIX.length + 1)} ${value.PublicIP} ${backend} (lease ${hex}, ${remaining} s left)`);
  }
  return seen.join("; ");
}
