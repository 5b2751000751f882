// The on-disk record of netns clusters. Everything `status`, `down` and crash
// recovery need is here, so no command depends on the memory of the one that ran `up`.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Topology } from "../topology/types.ts";
import type { OwnedProcess } from "./procfs.ts";

export const CLUSTER_NAME_PATTERN = /^[a-z][a-z0-9-]{0,23}$/;
/** The cluster every command means when it is given no --name. */
export const DEFAULT_CLUSTER_NAME = "labbook";

/** /run is a tmpfs: state vanishes on reboot, exactly when the namespaces do. */
export function stateRoot(): string {
  return process.env.LABBOOK_STATE_DIR ?? "/run/labbook";
}

export interface HolderRecord extends OwnedProcess {
  /** The `unshare` parent; `pid` is the namespace's PID 1 (tini). */
  unshare: OwnedProcess;
  /**
   * A node's: the process in the node's own user, network and mount namespaces (node-fence.sh), which
   * everything run in the node enters. Root there has no power over the machine.
   */
  namespaces?: OwnedProcess;
}

export interface ClusterState {
  name: string;
  backend: "netns";
  phase: "starting" | "up";
  /** The process running `up`: a cluster still "starting" whose owner is gone was abandoned. */
  owner: OwnedProcess;
  /** Removed by the next sweep once `owner` is gone, even when up. */
  ephemeral?: boolean;
  createdAt: string;
  topology: Topology;
  /** Host paths mounted over in every node, so that nothing under them can be seen (see node-init.sh). */
  hidden: string[];
  /** Why root in these nodes is root of the machine (UpOptions.privileged); absent, nodes are fenced. */
  privileged?: string;
  /** A Kubernetes cluster's: its release, the build it runs, and how long each phase of its start took. */
  kubernetes?: { version: string; build: string; phases?: Record<string, number> };
  world?: HolderRecord;
  nodes: Record<string, HolderRecord>;
  /** Per node, the cgroup.procs files of its limits (see cgroups.ts); empty where none could be made. */
  cgroups: Record<string, string[]>;
}

export function clusterDir(name: string): string {
  return join(stateRoot(), name);
}

export function nodeDir(cluster: string, node: string): string {
  return join(clusterDir(cluster), "nodes", node);
}

export function sshDir(cluster: string): string {
  return join(clusterDir(cluster), "ssh");
}

/** The marker every process of a cluster carries, so leftovers are found without a state file. */
export function markerFor(cluster: string): string {
  return `${stateRoot()}::${cluster}`;
}

export function readState(name: string): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(join(clusterDir(name), "state.json"), "utf8")) as ClusterState;
  } catch {
    return undefined;
  }
}

/** Atomic replace: a crash mid-write must not leave a state file that cannot be parsed. */
export function writeState(state: ClusterState, dir = clusterDir(state.name)): void {
  const file = join(dir, "state.json");
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${file}.tmp`, file);
}

export function listClusterNames(): string[] {
  try {
    return readdirSync(stateRoot(), { withFileTypes: true })
      .filter((e) => e.isDirectory() && CLUSTER_NAME_PATTERN.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

export function ensureStateRoot(): void {
  mkdirSync(stateRoot(), { recursive: true, mode: 0o700 });
}
