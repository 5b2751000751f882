// Resource limits per node, through cgroups: a fork bomb or a memory hog in one node (one student's
// submission, say) stops at its node's limits instead of taking the machine, and so the batch, down.
// The devices controller also keeps a node from opening the host's disks, even through a device node it
// made itself: root in a node could otherwise mount the host's disk and write to it.
// cgroup v1 (separate pids, memory and devices hierarchies) and v2 (one unified hierarchy, where the
// controllers are delegated to labbook's cgroup) are both handled. Where neither works, nodes run
// without limits and `labbook doctor` and `labbook grade` say so.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface NodeLimits {
  /** Tasks (processes and threads): glusterd and etcd run dozens of threads each. */
  pids: number;
  memoryBytes: number;
}

export const NODE_LIMITS: NodeLimits = { pids: 2048, memoryBytes: 1536 * 1024 * 1024 };

interface Hierarchy {
  version: 1 | 2;
  /** Controllers this hierarchy carries that labbook uses. */
  controllers: string[];
  /** Where labbook's own cgroups go: below the cgroup this process is in, in a "labbook" folder. */
  base: string;
}

/**
 * Mount point and this process's cgroup in each hierarchy that carries one of labbook's controllers; with
 * `every`, also each other cgroup v1 hierarchy (cpu, cpuset, freezer, name=systemd...), empty
 * `controllers`: a Kubernetes node gets a cgroup of its own in all of them, because kubelet makes its
 * kubepods tree at the root of its cgroup namespace in each, and two clusters' kubelets must not share one.
 */
function hierarchies(every = false): Hierarchy[] {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter(Boolean).map((line) => {
    const [before, after] = line.split(" - ");
    const [fstype, , options] = after!.split(" ");
    return { mountPoint: before!.split(" ")[4]!, root: before!.split(" ")[3]!, fstype: fstype!, options: options!.split(",") };
  });
  const memberships = readFileSync("/proc/self/cgroup", "utf8").split("\n").filter(Boolean).map((line) => {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line)!;
    return { controllers: controllers!.split(",").filter(Boolean), path: path! };
  });
  const found: Hierarchy[] = [];
  for (const controller of ["pids", "memory", "devices"]) {
    const mount = mounts.find((m) => m.fstype === "cgroup" && m.options.includes(controller));
    const member = memberships.find((m) => m.controllers.includes(controller));
    if (mount && member) found.push({ version: 1, controllers: [controller], base: join(mount.mountPoint, member.path.slice(mount.root === "/" ? 0 : mount.root.length), "labbook") });
  }
  if (every) {
    for (const member of memberships.filter((m) => m.controllers.length > 0 && !m.controllers.some((c) => ["pids", "memory", "devices"].includes(c)))) {
      const mount = mounts.find((m) => m.fstype === "cgroup" && member.controllers.every((c) => m.options.includes(c)));
      if (mount) found.push({ version: 1, controllers: [], base: join(mount.mountPoint, member.path.slice(mount.root === "/" ? 0 : mount.root.length), "labbook") });
    }
  }
  const unified = mounts.find((m) => m.fstype === "cgroup2");
  const member = memberships.find((m) => m.controllers.length === 0);
  if (unified && member) {
    const own = join(unified.mountPoint, member.path);
    const delegated = readOrEmpty(join(own, "cgroup.subtree_control")).split(/\s+/);
    const wanted = ["pids", "memory"].filter((c) => delegated.includes(c) && !found.some((h) => h.controllers.includes(c)));
    // v2 devices control is eBPF only; labbook does not load programs into the kernel.
    if (wanted.length > 0) found.push({ version: 2, controllers: wanted, base: join(own, "labbook") });
  }
  return found;
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}

/** Separates state roots (tests, bench, users), so one's sweep never touches another's cgroups. */
function scope(stateRoot: string): string {
  return createHash("sha256").update(stateRoot).digest("hex").slice(0, 8);
}

export function cgroupName(stateRoot: string, cluster: string, node: string): string {
  return `${scope(stateRoot)}.${cluster}.${node}`;
}

/** The limits that can be set here, or why none can. */
export function limitSupport(): { controllers: string[]; problem?: string } {
  try {
    const found = hierarchies();
    const controllers = found.flatMap((h) => h.controllers.map((c) => `${c} (v${h.version})`));
    // A real try: create labbook's folder (and leave it only if clusters already use it).
    for (const h of found) {
      const existed = existsSync(h.base);
      mkdirSync(h.base, { recursive: true });
      if (!existed) rmdirSync(h.base);
    }
    const missing = ["pids", "memory", "devices"].filter((c) => !found.some((h) => h.controllers.includes(c)));
    return { controllers, ...(missing.length ? { problem: `no ${missing.join(", ")} controller available to labbook (cgroup v2 needs them delegated to its cgroup)` } : {}) };
  } catch (error) {
    return { controllers: [], problem: `cgroups cannot be created here: ${(error as Error).message}` };
  }
}

/**
 * Creates the node's cgroups with their limits; returns the cgroup.procs files a process joins through.
 * `every`: in every cgroup v1 hierarchy, for a Kubernetes node (see hierarchies).
 */
export function createNodeCgroups(name: string, limits: NodeLimits = NODE_LIMITS, every = false): string[] {
  const procs: string[] = [];
  for (const h of hierarchies(every)) {
    const dir = join(h.base, name);
    try {
      mkdirWithCpuset(dir);
      for (const controller of h.controllers) {
        if (controller === "pids") writeFileSync(join(dir, "pids.max"), String(limits.pids));
        if (controller === "memory") writeFileSync(join(dir, h.version === 1 ? "memory.limit_in_bytes" : "memory.max"), String(limits.memoryBytes));
        // No block device, whoever made its node. A Kubernetes node may still make the nodes (runc allows
        // "b *:* m" in every container it starts, and a child cgroup can have only what its parent has),
        // but neither it nor its containers can read or write one.
        if (controller === "devices") writeFileSync(join(dir, "devices.deny"), every ? "b *:* rw" : "b *:* rwm");
      }
      procs.push(join(dir, "cgroup.procs"));
    } catch {
      // A hierarchy that will not take a child: the node runs without that limit (doctor says why).
    }
  }
  return procs;
}

/** The node cgroups of this state root that exist now (for leftover accounting). */
export function cgroupsOf(stateRoot: string): string[] {
  const prefix = `${scope(stateRoot)}.`;
  return hierarchies(true).flatMap((h) => (existsSync(h.base) ? readdirSync(h.base).filter((e) => e.startsWith(prefix)).map((e) => join(h.base, e)) : []));
}

/**
 * Removes the cgroups of the named clusters' nodes (all of this state root's, when `clusters` is
 * undefined) once their processes are gone. A cgroup with a process still in it stays, for the next sweep.
 */
export function removeCgroups(stateRoot: string, clusters?: string[]): number {
  let busy = 0;
  const prefix = `${scope(stateRoot)}.`;
  for (const h of hierarchies(true)) {
    if (!existsSync(h.base)) continue;
    for (const entry of readdirSync(h.base)) {
      if (!entry.startsWith(prefix)) continue;
      const cluster = entry.slice(prefix.length, entry.lastIndexOf("."));
      if (clusters && !clusters.includes(cluster)) continue;
      try {
        rmdirTree(join(h.base, entry));
      } catch {
        busy++; // its processes are still being reaped
      }
    }
    try {
      rmdirSync(h.base); // labbook's folder goes with its last cgroup
    } catch {
      // other clusters' cgroups are still in it
    }
  }
  return busy;
}

/**
 * A cpuset cgroup starts with no CPUs and no memory nodes, and takes no process until it has some:
 * each new level copies its parent's.
 */
function mkdirWithCpuset(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    mkdirSync(d);
    for (const file of ["cpuset.cpus", "cpuset.mems"]) {
      if (existsSync(join(d, file)) && readOrEmpty(join(d, file)) === "") writeFileSync(join(d, file), readOrEmpty(join(dirname(d), file)));
    }
  }
}

/** A cgroup and the ones kubelet and runc made below it (kubepods/burstable/pod.../<container>), deepest first. */
function rmdirTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) rmdirTree(join(dir, entry.name));
  }
  rmdirSync(dir);
}

/** removeCgroups, retried for a moment: the last processes of a node leave its cgroups as they are reaped. */
export async function removeCgroupsSoon(stateRoot: string, clusters?: string[]): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    if (removeCgroups(stateRoot, clusters) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `command args...`, started inside the node's cgroups: a shell joins them, then execs the command. */
export function inCgroups(procs: string[], command: string, args: string[]): [string, string[]] {
  const join = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ 2>/dev/null > "$1" || true; shift; n=$((n - 1)); done; exec "$@"';
  return ["sh", ["-c", join, "sh", String(procs.length), ...procs, command, ...args]];
}
