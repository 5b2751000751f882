// What the real kubelet made, read back (lab 09): a pod's mounts from its own /proc/self/mountinfo,
// and small kubectl reads on a node (kubectl works as admin on every Kubernetes node).
import type { Node } from "labbook";

export interface MountEntry {
  /** The directory of its filesystem that is bound here (a bind mount's source, as the kernel names it). */
  root: string;
  /** The mount's own options: "ro,..." or "rw,...". */
  options: string;
  /** The filesystem type (ext4, tmpfs, overlay...). */
  fstype: string;
}

/** /proc/self/mountinfo as mount point -> entry (the last mount at a point wins, as the kernel shows it). */
export function parseMountinfo(text: string): Map<string, MountEntry> {
  const mounts = new Map<string, MountEntry>();
  for (const line of text.split("\n")) {
    const [left, right] = line.split(" - ");
    const fields = (left ?? "").trim().split(" ");
    if (fields.length < 6 || !right) continue;
    mounts.set(fields[4]!, { root: fields[3]!, options: fields[5]!, fstype: right.split(" ")[0] ?? "" });
  }
  return mounts;
}

/** `kubectl ARGS` on a node; its trimmed stdout. Throws with kubectl's own message when it fails. */
export async function kubectl(node: Node, args: string): Promise<string> {
  const result = await node.$({ nothrow: true })`sh -c ${`kubectl ${args}`}`;
  if (!result.ok) throw new Error(`kubectl ${args}: ${(result.stderr || result.stdout).trim()}`);
  return result.stdout.trim();
}

/** `kubectl exec POD -- sh -c COMMAND`, shown as a person would type it; never throws on the exit code. */
export async function kubectlExec(node: Node, pod: string, command: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  console.log(`${node.name}# kubectl exec ${pod} -- sh -c '${command}'`);
  const result = await node.$({ nothrow: true })`kubectl exec ${pod} -- sh -c ${command}`;
  return { ok: result.ok, stdout: result.stdout, stderr: result.stderr };
}
