// Pods with volumes, as the kubelet and a container runtime lay them out on a node (lab 09):
// each volume is a directory the kubelet prepares under <pods>/<pod>/volumes/,
// or a host path; the runtime bind-mounts it into the container's own mount namespace at its
// mountPath, read-only or with a subPath when asked. Names follow a Pod spec's fields.
import { readFileSync } from "node:fs";
import type { Node } from "../cluster/node.ts";
import type { CommandResult } from "../cluster/result.ts";

const START_SCRIPT = readFileSync(new URL("./pods.sh", import.meta.url), "utf8");
/** Where the real kubelet keeps its pods (by UID). */
export const KUBELET_PODS = "/var/lib/kubelet/pods";
/**
 * Where this model keeps its pods (by name): beside the real kubelet's folder, not in it, because a real
 * kubelet (labbook up --kubernetes) removes the folders of pods it does not know within seconds.
 */
export const MODEL_PODS = "/var/lib/kubelet-model/pods";

export interface PodVolume {
  name: string;
  /** A directory that lives and dies with the pod. */
  emptyDir?: Record<string, never>;
  /** A directory of the node, kept when the pod goes. */
  hostPath?: { path: string };
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  /** Mount only this path inside the volume. */
  subPath?: string;
}

export interface PodSpec {
  name: string;
  volumes: PodVolume[];
  volumeMounts: VolumeMount[];
}

function podDir(name: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(name)) throw new Error(`pod name "${name}": use lower case letters, digits and '-'`);
  return `${MODEL_PODS}/${name}`;
}

/** Where the kubelet keeps a volume on the node: its own directory for emptyDir, the path itself for hostPath. */
export function volumeSource(pod: string, volume: PodVolume): string {
  if (volume.hostPath) return volume.hostPath.path;
  if (volume.emptyDir) return `${podDir(pod)}/volumes/kubernetes.io~empty-dir/${volume.name}`;
  throw new Error(`volume "${volume.name}": only emptyDir and hostPath are supported here`);
}

export class Pod {
  constructor(
    readonly node: Node,
    readonly name: string,
    readonly pid: number,
  ) {}

  /** Runs a shell line inside the pod: its mount namespace and its root. Never throws on exit codes. */
  exec(command: string): Promise<CommandResult> {
    console.log(`${this.node.name}# nsenter -t ${this.pid} -m -r -w sh -c '${command}'   # pod ${this.name}, as kubectl exec`);
    return this.node.$({ nothrow: true })`nsenter -t ${this.pid} -m -r -w sh -c ${command}`;
  }

  /** What the kubelet does when the pod is deleted: stop it, then remove its directory and every emptyDir in it. */
  async delete(): Promise<void> {
    console.log(`${this.node.name}# kill ${this.pid}; rm -rf ${podDir(this.name)}   # pod ${this.name} deleted: the kubelet's part`);
    await this.node.$`kill ${this.pid}; timeout 5 sh -c ${`while kill -0 ${this.pid} 2>/dev/null; do sleep 0.05; done`}; rm -rf ${podDir(this.name)}`;
  }
}

/** The kubelet's part (volume directories) and the runtime's (mount namespace, root, bind mounts). */
export async function runPod(node: Node, spec: PodSpec): Promise<Pod> {
  const dir = podDir(spec.name);
  const mounts = spec.volumeMounts.map((mount) => {
    const volume = spec.volumes.find((v) => v.name === mount.name);
    if (!volume) throw new Error(`pod ${spec.name}: volumeMount "${mount.name}" names no volume`);
    if (!mount.mountPath.startsWith("/")) throw new Error(`pod ${spec.name}: mountPath "${mount.mountPath}" must be absolute`);
    const source = `${volumeSource(spec.name, volume)}${mount.subPath ? `/${mount.subPath}` : ""}`;
    return { source, target: mount.mountPath, mode: mount.readOnly ? "ro" : "rw" };
  });
  console.log(`${node.name}: pod ${spec.name} starts: its own mount namespace and root, with ${mounts.map((m) => `mount --bind ${m.source} ${m.target}${m.mode === "ro" ? " (read-only)" : ""}`).join(", ") || "no volumes"}`);
  // The kubelet creates emptyDirs (and, as type DirectoryOrCreate would, host paths and subPaths).
  await node.$`mkdir -p ${dir} ${mounts.map((m) => m.source)}`;
  await node.$({ input: START_SCRIPT })`env POD_DIR=${dir} MOUNTS=${mounts.map((m) => `${m.source} ${m.target} ${m.mode}`).join("\n")} sh -s`;
  const ready = await node.$({ nothrow: true })`timeout 5 sh -c ${`until [ -s ${dir}/pid ]; do sleep 0.02; done; cat ${dir}/pid`}`;
  if (!ready.ok) throw new Error(`pod ${spec.name} on ${node.name} did not start: ${(await node.$({ nothrow: true })`cat ${dir}/pod.log`).stdout.trim() || "no output"}`);
  return new Pod(node, spec.name, Number(ready.stdout.trim()));
}

/** A pod started earlier (e.g. in a student's cell), found by name on its node. */
export async function findPod(node: Node, name: string): Promise<Pod> {
  const alive = await node.$({ nothrow: true })`pid=$(cat ${podDir(name)}/pid) && kill -0 "$pid" && echo "$pid"`;
  if (!alive.ok) throw new Error(`no pod "${name}" is running on ${node.name}`);
  return new Pod(node, name, Number(alive.stdout.trim()));
}
