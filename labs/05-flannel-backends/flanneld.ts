// Lab 05's comparison of the real flanneld's kernel state (the SDK's startFlanneld) with the state the
// student built by hand: the same devices, routes, neighbours and fdb entries, MACs aside.
import type { Node } from "labbook";

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
