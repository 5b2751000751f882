// A workstation on a cluster's LAN: the network a sandboxed kernel gets (kernel/sandbox.ts). Like a
// student's laptop in front of real VMs, it has an address on the LAN bridge and reaches the nodes'
// sshd over TCP; it has no default route, so it reaches nothing else. The veth dies with the kernel's
// network namespace, or with the cluster's world.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LabbookError } from "../../errors.ts";
import { cidrSize, formatIpv4, parseCidr, parseIpv4 } from "../../topology/ipv4.ts";
import type { LanCluster } from "../types.ts";
import type { ClusterDescription } from "../types.ts";
import { hostExec } from "./host-exec.ts";
import { hostKeysOf } from "./node-files.ts";
import { sshDir, type ClusterState } from "../../host/state.ts";

/** The highest host address of the LAN that no node, gateway or stand-in internet holds. */
export function workstationAddress(state: ClusterState): string {
  const cidr = parseCidr(state.topology.network.cidr)!;
  const taken = new Set([state.topology.network.gateway, ...state.topology.nodes.map((n) => n.ip)].map((ip) => parseIpv4(ip)));
  for (let ip = cidr.base + cidrSize(cidr) - 2; ip > cidr.base; ip--) if (!taken.has(ip)) return formatIpv4(ip);
  throw new LabbookError(`cluster "${state.name}": no address left on ${state.topology.network.cidr} for a workstation`);
}

/** Plugs the network namespace of process `pid` into the cluster's LAN bridge (`bridge`, in the world). */
export async function plugWorkstation(state: ClusterState, pid: number, bridge: string): Promise<string> {
  const address = workstationAddress(state);
  const veth = `ws${pid}`.slice(0, 15);
  await hostExec("nsenter", ["-t", String(state.world!.pid), "-n", "ip", "-batch", "-"], {
    input: `link add ${veth} type veth peer name eth0 netns ${pid}\nlink set ${veth} master ${bridge} up\n`,
    step: `plug a workstation into cluster ${state.name}'s LAN`,
  });
  await hostExec("nsenter", ["-t", String(pid), "-n", "ip", "-batch", "-"], {
    input: `addr add ${address}/${state.topology.network.prefix} dev eth0\nlink set eth0 up\n`,
    step: `give the workstation of cluster ${state.name} its address`,
  });
  return address;
}

/** What the sandboxed SDK needs to reach the nodes: the description, the client key and the host keys. */
export function lanCluster(state: ClusterState, description: ClusterDescription): LanCluster {
  return { description, privateKey: readFileSync(join(sshDir(state.name), "id_ed25519"), "utf8"), hostKeys: hostKeysOf(state.name) };
}
