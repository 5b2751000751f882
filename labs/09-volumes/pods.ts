// Pods with volumes, as the kubelet and a container runtime lay them out on a node (lab 09):
// each volume is a directory the kubelet prepares under <pods>/<pod>/volumes/,
// or a host path; the runtime bind-mounts it into the container's own mount namespace at its
// mountPath, read-only or with a subPath when asked. Names follow a Pod spec's fields.
import { scaledSeconds, type CommandResult, type Node } from "labbook";

/** A shell script, not a file beside this one: a lab's helpers load as modules (in tslab, in the grader), where a path of their own is not at hand. */
const START_SCRIPT = String.raw`# Starts a "pod" the way a container runtime does, minus images: a mount namespace of its own,
# a fresh root filesystem (tmpfs, with the node's /usr and /etc bound read-only), the pod's
# volumes bound at their mount paths, then chroot. Run by runPod on a node, through sh -s.
# Inputs (environment): POD_DIR (/var/lib/kubelet-model/pods/<name>), MOUNTS (lines "source target ro|rw").
# It returns at once; the pod writes its PID (the chrooted sleep) to $POD_DIR/pid when it is ready.
set -eu
ROOT="$POD_DIR/rootfs"
mkdir -p "$ROOT"
# setsid: the pod outlives this command and its SSH channel, as a pod outlives "kubectl run".
setsid -f unshare --mount --propagation private --fork sh -eu -c '
  ROOT="$POD_DIR/rootfs"
  mount -t tmpfs -o mode=755 rootfs "$ROOT"
  # --rbind, not --bind: in a fenced node (netns/node-fence.sh) /etc holds mounts the node cannot undo
  # (/etc/hosts), and the kernel refuses a bind that would show what is under them.
  for dir in usr etc; do
    mkdir "$ROOT/$dir"
    mount --rbind "/$dir" "$ROOT/$dir"
    mount -o remount,bind,ro "$ROOT/$dir"
  done
  # Merged /usr (Debian 12, Ubuntu 22.04): /bin, /lib, ... are links into /usr.
  for dir in bin sbin lib lib64; do
    if [ -L "/$dir" ]; then ln -s "$(readlink "/$dir")" "$ROOT/$dir"
    elif [ -d "/$dir" ]; then mkdir "$ROOT/$dir"; mount --bind "/$dir" "$ROOT/$dir"; mount -o remount,bind,ro "$ROOT/$dir"; fi
  done
  mkdir -p "$ROOT/proc" "$ROOT/dev" "$ROOT/tmp"
  # The pod shares the node PID namespace, so it gets the node /proc: a fenced node may not mount a new one.
  mount --rbind /proc "$ROOT/proc"
  mount --rbind /dev "$ROOT/dev"
  printf "%s\n" "$MOUNTS" | while read -r source target mode; do
    [ -n "$source" ] || continue
    mkdir -p "$ROOT$target"
    mount --bind "$source" "$ROOT$target"
    if [ "$mode" = ro ]; then mount -o remount,bind,ro "$ROOT$target"; fi
  done
  echo $$ > "$POD_DIR/pid"
  exec chroot "$ROOT" /bin/sleep infinity
' </dev/null >"$POD_DIR/pod.log" 2>&1
`;
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
  readonly node: Node;
  readonly name: string;
  readonly pid: number;

  constructor(node: Node, name: string, pid: number) {
    this.node = node;
    this.name = name;
    this.pid = pid;
  }

  /** Runs a shell line inside the pod: its mount namespace and its root. Never throws on exit codes. */
  exec(command: string): Promise<CommandResult> {
    console.log(`${this.node.name}# nsenter -t ${this.pid} -m -r -w sh -c '${command}'   # pod ${this.name}, as kubectl exec`);
    return this.node.$({ nothrow: true })`nsenter -t ${this.pid} -m -r -w sh -c ${command}`;
  }

  /** What the kubelet does when the pod is deleted: stop it, then remove its directory and every emptyDir in it. */
  async delete(): Promise<void> {
    console.log(`${this.node.name}# kill ${this.pid}; rm -rf ${podDir(this.name)}   # pod ${this.name} deleted: the kubelet's part`);
    await this.node.$`kill ${this.pid}; timeout ${scaledSeconds(5)} sh -c ${`while kill -0 ${this.pid} 2>/dev/null; do sleep 0.05; done`}; rm -rf ${podDir(this.name)}`;
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
  // Seconds on a busy VM under software emulation (unshare, a dozen mounts): a generous bound, not a pause.
  const ready = await node.$({ nothrow: true })`timeout ${scaledSeconds(30)} sh -c ${`until [ -s ${dir}/pid ]; do sleep 0.02; done; cat ${dir}/pid`}`;
  if (!ready.ok) throw new Error(`pod ${spec.name} on ${node.name} did not start: ${(await node.$({ nothrow: true })`cat ${dir}/pod.log`).stdout.trim() || "no output"}`);
  return new Pod(node, spec.name, Number(ready.stdout.trim()));
}

/** A pod started earlier (e.g. in a student's cell), found by name on its node. */
export async function findPod(node: Node, name: string): Promise<Pod> {
  const alive = await node.$({ nothrow: true })`pid=$(cat ${podDir(name)}/pid) && kill -0 "$pid" && echo "$pid"`;
  if (!alive.ok) throw new Error(`no pod "${name}" is running on ${node.name}`);
  return new Pod(node, name, Number(alive.stdout.trim()));
}
