// GlusterFS as lab 10 reads it: the volume, its bricks and its pending heals, parsed from the
// `gluster` CLI's --xml output run inside a node. These helpers only read state and print
// nothing; a lab's steps show the plain commands with sh().
import type { Node } from "labbook";

/** `gluster volume info <volume>`: what the volume is made of. */
export interface GlusterVolumeInfo {
  name: string;
  /** "Created", "Started" or "Stopped". */
  status: string;
  /** "Replicate", "Distributed-Replicate", "Distribute", ... */
  type: string;
  replicaCount: number;
  brickCount: number;
  /** "host:/path", in the volume's order. */
  bricks: string[];
}

/** One brick's line of `gluster volume status <volume>`. */
export interface GlusterBrickStatus {
  /** "host:/path". */
  brick: string;
  online: boolean;
  /** The glusterfsd PID, in the PID namespace of the brick's own node; null when offline. */
  pid: number | null;
  port: number | null;
}

/** One brick's part of `gluster volume heal <volume> info`. */
export interface GlusterHealEntry {
  brick: string;
  /** "Connected", or why the brick could not be asked (e.g. "Transport endpoint is not connected"). */
  status: string;
  /** Entries (files, directories) this brick holds as needing heal on another brick; null when unknown ("-"). */
  entries: number | null;
}

function tag(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

function blocks(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`, "g"))].map((m) => m[1]!);
}

function integer(text: string | undefined): number | null {
  return text !== undefined && /^-?\d+$/.test(text.trim()) ? Number(text) : null;
}

/** Parsed `gluster volume info <volume> --xml`, asked of `node`'s glusterd. */
export async function glusterVolumeInfo(node: Node, volume: string): Promise<GlusterVolumeInfo> {
  const xml = (await node.$`gluster volume info ${volume} --xml`).stdout;
  const block = blocks(xml, "volume")[0];
  if (!block) throw new Error(`${node.name}: gluster volume info ${volume} gave no volume:\n${xml}`);
  return {
    name: tag(block, "name") ?? volume,
    status: tag(block, "statusStr") ?? "?",
    type: tag(block, "typeStr") ?? "?",
    replicaCount: integer(tag(block, "replicaCount")) ?? 0,
    brickCount: integer(tag(block, "brickCount")) ?? 0,
    bricks: blocks(block, "brick").map((b) => tag(b, "name") ?? ""),
  };
}

/** The bricks of `gluster volume status <volume> --xml` (the self-heal daemons are left out). */
export async function glusterBrickStatus(node: Node, volume: string): Promise<GlusterBrickStatus[]> {
  const xml = (await node.$`gluster volume status ${volume} --xml`).stdout;
  return blocks(xml, "node")
    .map((b) => ({ host: tag(b, "hostname") ?? "", path: tag(b, "path") ?? "", b }))
    .filter(({ path }) => path.startsWith("/"))
    .map(({ host, path, b }) => {
      const online = tag(b, "status") === "1";
      const pid = integer(tag(b, "pid"));
      return { brick: `${host}:${path}`, online, pid: online && pid !== null && pid > 0 ? pid : null, port: integer(tag(b, "port")) };
    });
}

/** Parsed `gluster volume heal <volume> info --xml`. */
export async function glusterHealInfo(node: Node, volume: string): Promise<GlusterHealEntry[]> {
  const xml = (await node.$`gluster volume heal ${volume} info --xml`).stdout;
  return blocks(xml, "brick").map((b) => ({
    brick: tag(b, "name") ?? "?",
    status: tag(b, "status") ?? "?",
    entries: integer(tag(b, "numberOfEntries")),
  }));
}

/** "node1:/b 0, node3:/b - (Transport endpoint is not connected)": a heal info for a message. */
export function formatHealInfo(heal: readonly GlusterHealEntry[]): string {
  return heal.map((h) => `${h.brick} ${h.entries ?? "-"}${h.status === "Connected" ? "" : ` (${h.status})`}`).join(", ");
}

/** Total pending heal entries, or null when a brick could not be asked (its count is unknown). */
export function pendingHeals(heal: readonly GlusterHealEntry[]): number | null {
  if (heal.length === 0 || heal.some((h) => h.status !== "Connected" || h.entries === null)) return null;
  return heal.reduce((sum, h) => sum + (h.entries ?? 0), 0);
}

/** sha256 of `path` on `node`, or null when the file does not exist there. */
export async function sha256Of(node: Node, path: string): Promise<string | null> {
  const result = await node.$({ nothrow: true })`sha256sum ${path}`;
  return result.ok ? result.stdout.split(/\s+/)[0]! : null;
}

/**
 * The uid of the Kubernetes pod whose cgroup holds process `pid` of `node`, or null when it is in none. kubelet names
 * the pod's cgroup pod<uid> with the cgroupfs driver (the embedded nodes), and kubepods-<class>-pod<uid>.slice, the
 * uid's "-" written "_", with systemd's (kubeadm's default, on the VMs).
 */
export async function podOfPid(node: Node, pid: number): Promise<string | null> {
  const cgroups = String(await node.$({ nothrow: true })`cat /proc/${pid}/cgroup`);
  return /pod([0-9a-f_-]{36})/.exec(cgroups)?.[1]?.replaceAll("_", "-") ?? null;
}
