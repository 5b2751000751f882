// The real flanneld (v0.28.10, built by labbook) against the lab's own etcd, started and stopped from a
// cell: the lab's Kubernetes cluster defers its own flanneld (--kube-subnet-mgr), so these are the only ones.
import { sh } from "labbook";
import type { Node } from "labbook";

/** The lab's etcd, in node1, on its node address only (Kubernetes' own etcd holds 127.0.0.1:2379). */
export const FLANNEL_ETCD = "http://192.168.0.11:2379";
/** flanneld with the etcd subnet manager, as the lesson runs it: no --kube-subnet-mgr. */
export const FLANNELD = `flanneld --etcd-endpoints=${FLANNEL_ETCD} --etcd-prefix=/coreos.com/network --iface=eth0`;
const PID = "/run/flannel/flanneld.pid";
const LOG = "/var/log/flanneld-etcd.log";

/**
 * Starts flanneld on `node`, detached, logging to /var/log/flanneld-etcd.log, and waits (deadline 20 s)
 * until it has written /run/flannel/subnet.env anew: by then it holds its lease and has set up its
 * backend. The old subnet.env stays until then: flanneld reads FLANNEL_SUBNET from it, and asks for that
 * subnet again.
 */
export async function startFlanneld(node: Node): Promise<void> {
  await sh(node, `mkdir -p /run/flannel && touch /run/flannel/start.mark && setsid -f sh -c 'echo $$ > ${PID}; exec ${FLANNELD}' >> ${LOG} 2>&1`);
  await sh(node, `timeout 20 sh -c 'until [ /run/flannel/subnet.env -nt /run/flannel/start.mark ]; do sleep 0.2; done' && cat /run/flannel/subnet.env`);
}

/** Stops the flanneld startFlanneld started on `node`, and waits until it is gone. Its lease stays in etcd. */
export async function stopFlanneld(node: Node): Promise<void> {
  const pid = (await node.run(`cat ${PID}`, { nothrow: true })).stdout.trim();
  if (!pid || !(await node.run(`kill -0 ${pid}`, { nothrow: true })).ok) return;
  await sh(node, `kill ${pid} && timeout 10 sh -c 'while kill -0 ${pid} 2>/dev/null; do sleep 0.1; done'; rm -f ${PID}`);
}

/** The lines of flanneld's log on `node` that say which lease it took and what it programmed. */
export async function flanneldLog(node: Node, pattern = "Found lease|Allocated lease|Wrote subnet|Running backend|to renew lease"): Promise<string> {
  return (await node.run(`grep -E '${pattern}' ${LOG} | tail -n 5`, { nothrow: true })).stdout.trim();
}

interface Route { dst: string; gateway?: string; dev?: string; flags?: string[] }

/**
 * The flannel kernel state of `node` as comparable lines: the flannel devices (type, VNI, port,
 * learning, MTU, address), the routes into 10.244.0.0/16 but the node's own cni0, and flannel.1's
 * neighbour and fdb entries, with every VtepMAC written as the node whose flannel.1 has it
 * (flanneld makes new MACs, so the shape compares, not the bytes), and who listens on UDP 8285.
 */
export async function flannelKernel(nodes: readonly Node[], node: Node): Promise<string[]> {
  const macs = new Map<string, string>();
  for (const n of nodes) {
    const mac = (await n.run("cat /sys/class/net/flannel.1/address", { nothrow: true })).stdout.trim();
    if (mac) macs.set(mac, `<${n.name}'s VtepMAC>`);
  }
  const name = (mac: string) => macs.get(mac) ?? mac;
  const lines: string[] = [];
  const vxlan = await node.run("ip -d link show flannel.1", { nothrow: true });
  if (vxlan.ok) {
    const t = vxlan.stdout;
    const v = /vxlan id (\d+) local (\S+) dev (\S+).*dstport (\d+)/.exec(t);
    const addr = (await node.run("ip -4 -o addr show dev flannel.1", { nothrow: true })).stdout.match(/inet (\S+)/)?.[1];
    lines.push(`flannel.1: vxlan id ${v?.[1]} local ${v?.[2]} dev ${v?.[3]} dstport ${v?.[4]}${/ nolearning /.test(t) ? " nolearning" : " learning"} mtu ${/mtu (\d+)/.exec(t)?.[1]} addr ${addr ?? "none"}`);
    for (const n of (await node.$`ip -j neigh show dev flannel.1`).json<Array<{ dst: string; lladdr?: string; state?: string[] }>>()) {
      lines.push(`neigh ${n.dst} lladdr ${name(n.lladdr ?? "")} ${(n.state ?? []).join(",")}`);
    }
    for (const f of (await node.$`bridge -j fdb show dev flannel.1`).json<Array<{ mac: string; dst?: string }>>()) {
      if (f.dst) lines.push(`fdb ${name(f.mac)} dst ${f.dst}`);
    }
  }
  const tun = await node.run("ip -d link show flannel0", { nothrow: true });
  if (tun.ok) {
    const addr = (await node.run("ip -4 -o addr show dev flannel0", { nothrow: true })).stdout.match(/inet (\S+)/)?.[1];
    lines.push(`flannel0: ${/tun type (\S+)/.exec(tun.stdout)?.[0] ?? "not tun"} mtu ${/mtu (\d+)/.exec(tun.stdout)?.[1]} addr ${addr ?? "none"}`);
  }
  for (const r of (await node.$`ip -j route show root 10.244.0.0/16`).json<Route[]>()) {
    if (r.dev === "cni0") continue;
    lines.push(`route ${r.dst}${r.gateway ? ` via ${r.gateway}` : ""} dev ${r.dev}${r.flags?.includes("onlink") ? " onlink" : ""}`);
  }
  if ((await node.run("ss -Hulpn 'sport = :8285'", { nothrow: true })).stdout.trim()) lines.push("listens on udp 8285");
  return lines.sort();
}

/** Compares two flannelKernel() results: returns the shared lines, throws the differences. */
export function sameShape(what: string, byHand: readonly string[], real: readonly string[]): string {
  const missing = byHand.filter((l) => !real.includes(l));
  const extra = real.filter((l) => !byHand.includes(l));
  if (missing.length || extra.length) {
    throw new Error(`${what}: by hand but not by flanneld: ${missing.join("; ") || "nothing"}. By flanneld only: ${extra.join("; ") || "nothing"}`);
  }
  return `${what}: ${real.join("; ")}`;
}
