// The on-disk record of Vagrant clusters. Each cluster has one directory in the checkout (VM disks do
// not belong on /run's tmpfs): its state, the topology Vagrant reads, libvirt's private configuration
// and state, and Vagrant's machine records. `down` removes the whole directory.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Topology } from "../../topology/types.ts";
import type { OwnedProcess } from "../../host/procfs.ts";
import type { HolderRecord } from "../../host/state.ts";
import { CLUSTER_NAME_PATTERN } from "../../host/state.ts";
import type { SshEndpoint } from "./ssh-config.ts";

/** The checkout: the Vagrantfile and infra/ are read from here. */
export const CHECKOUT = fileURLToPath(new URL("../../../", import.meta.url));

export function vagrantRoot(): string {
  return process.env.LABBOOK_VAGRANT_DIR ?? join(CHECKOUT, ".labbook", "vagrant");
}

export interface VagrantNode {
  endpoint: SshEndpoint;
  /** The node's interface on the cluster's LAN (eth1 on Vagrant VMs: eth0 is Vagrant's management NIC). */
  lanInterface: string;
  /** The host key seen on the first connection after `up` (base64 of its SSH blob); later connections must match it. */
  hostKey: string;
}

export interface VagrantClusterState {
  name: string;
  backend: "vagrant";
  phase: "starting" | "up";
  owner: OwnedProcess;
  createdAt: string;
  topology: Topology;
  /** The namespaces libvirtd, qemu and vagrant run in. */
  host?: HolderRecord;
  box: string;
  kubernetes: boolean;
  /** The stand-in internet's address, once it answers in the VM host (the VMs route to it through the LAN). */
  internet?: string;
  nodes: Record<string, VagrantNode>;
}

export function clustersDir(): string {
  return join(vagrantRoot(), "clusters");
}

export function clusterDir(name: string): string {
  return join(clustersDir(), name);
}

export function readState(name: string): VagrantClusterState | undefined {
  try {
    return JSON.parse(readFileSync(join(clusterDir(name), "state.json"), "utf8")) as VagrantClusterState;
  } catch {
    return undefined;
  }
}

export function writeState(state: VagrantClusterState): void {
  const file = join(clusterDir(state.name), "state.json");
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${file}.tmp`, file);
}

export function listClusterNames(): string[] {
  if (!existsSync(clustersDir())) return [];
  return readdirSync(clustersDir(), { withFileTypes: true })
    .filter((e) => e.isDirectory() && CLUSTER_NAME_PATTERN.test(e.name))
    .map((e) => e.name)
    .sort();
}

export function ensureClustersDir(): void {
  mkdirSync(clustersDir(), { recursive: true, mode: 0o700 });
}
