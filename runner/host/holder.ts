// A holder is the process that keeps a node's namespaces alive:
//   unshare --net --mount --uts --pid --fork --kill-child -- tini -- sleep infinity
// tini is PID 1 of the node; killing it makes the kernel kill everything inside.
import { spawn } from "node:child_process";
import { readlinkSync } from "node:fs";
import { LabbookError } from "../errors.ts";
import { inCgroups } from "./cgroups.ts";
import { MARKER_VARIABLE, childrenOf, commOf, isRunning, startTimeOf, type OwnedProcess } from "./procfs.ts";
import type { HolderRecord } from "./state.ts";

const UNSHARE_ARGS = ["--net", "--mount", "--uts", "--ipc", "--pid", "--fork", "--kill-child", "--propagation", "private"];

/**
 * What root in a node never needs and must not have: these act on the whole machine, not on the node's
 * namespaces (load kernel modules, set the clock, reboot, raw I/O ports, the kernel log, audit rules).
 * Labs keep the rest: net_admin for ip and iptables, sys_admin for ip netns and FUSE mounts, net_raw for tcpdump.
 */
export const NODE_DROPPED_CAPABILITIES = ["sys_module", "sys_time", "sys_boot", "sys_rawio", "syslog", "audit_control", "mac_admin", "mac_override", "wake_alarm", "block_suspend", "sys_resource"];

/** Open files per process in a node. Without sys_resource (dropped above), no process there can raise it. */
export const NODE_OPEN_FILES = 8192;

/**
 * What a Kubernetes node keeps of them: kubelet will not start without reading the kernel log (its OOM
 * watcher opens /dev/kmsg, which needs CAP_SYSLOG), as kind's nodes read it.
 */
export const KUBERNETES_KEPT_CAPABILITIES = ["syslog"];

/**
 * `command args...` as a node's process: at most NODE_OPEN_FILES open files, and the machine-wide
 * capabilities dropped for good (bounding set and inheritable set), but those in `keep`. The limit is set
 * first, while the caller may still raise it; then the capabilities go.
 */
export function asNodeProcess(command: string, args: string[], keep: string[] = []): string[] {
  const drop = NODE_DROPPED_CAPABILITIES.filter((c) => !keep.includes(c)).map((c) => `-${c}`).join(",");
  return ["prlimit", `--nofile=${NODE_OPEN_FILES}:${NODE_OPEN_FILES}`, "--", "setpriv", `--bounding-set=${drop}`, `--inh-caps=${drop}`, "--", command, ...args];
}

/**
 * A node (`cgroups` given) is started inside its cgroups, with a cgroup namespace whose root they are:
 * root in the node, though it can mount cgroupfs, then sees nothing above its own limits to move to.
 * It also lacks the machine-wide capabilities.
 */
export async function spawnHolder(marker: string, options: { cgroups?: string[]; keepCapabilities?: string[] } = {}): Promise<HolderRecord> {
  const init = ["tini", "-s", "--", "sleep", "infinity"];
  const command = options.cgroups
    ? inCgroups(options.cgroups, "unshare", [...UNSHARE_ARGS, "--cgroup", "--", ...asNodeProcess(init[0]!, init.slice(1), options.keepCapabilities)])
    : (["unshare", [...UNSHARE_ARGS, "--", ...init]] as [string, string[]]);
  const child = spawn(command[0], command[1], {
    detached: true, // own session: a Ctrl-C aimed at the CLI must not reach the nodes
    // At the root: node-fence.sh's pivot_root moves along only the processes whose working directory is
    // the old root. One left in, say, the checkout would pin the host's old mount tree (its named network
    // namespaces among them) for as long as the node lives.
    cwd: "/",
    stdio: "ignore",
    env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", [MARKER_VARIABLE]: marker },
  });
  child.unref();
  const spawned = new Promise<never>((_, reject) => child.once("error", reject));
  if (child.pid === undefined) return spawned;
  const unshare = { pid: child.pid, startTime: await waitFor(() => startTimeOf(child.pid!), "unshare to start", child.pid) };
  // Wait for tini's exec, not just the fork: before it, unshare may not have made mounts private yet.
  const pid = await waitFor(() => childrenOf(unshare.pid).find((p) => commOf(p) === "tini"), "tini to start", unshare.pid);
  const startTime = await waitFor(() => startTimeOf(pid), "tini to start", pid);
  return { pid, startTime, unshare };
}

async function waitFor<T>(probe: () => T | undefined, what: string, pid: number, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (startTimeOf(pid) === undefined) throw new LabbookError(`a node's holder process (${pid}) exited while waiting for ${what}; labbook doctor may say why`);
    if (Date.now() > deadline) throw new LabbookError(`timed out after ${timeoutMs} ms waiting for ${what} (pid ${pid})`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The PID that commands for a node enter: its own namespaces' process, or tini before node-fence.sh ran. */
export function namespacesOf(holder: HolderRecord): number {
  return holder.namespaces?.pid ?? holder.pid;
}

/** The process node-fence.sh left in the node's own namespaces: tini's child in another network namespace. */
export function findNodeNamespaces(holder: HolderRecord): OwnedProcess {
  const tiniNet = netNamespaceOf(holder.pid);
  for (const pid of childrenOf(holder.pid)) {
    const startTime = startTimeOf(pid);
    if (startTime !== undefined && netNamespaceOf(pid) !== tiniNet) return { pid, startTime };
  }
  throw new LabbookError(`a node's namespaces process did not start (holder ${holder.pid}); labbook doctor may say why`);
}

function netNamespaceOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/** Both of a node's processes: root in a node can kill its namespaces' process, and so stop its own node. */
export function nodeRunning(holder: HolderRecord): boolean {
  return isRunning(holder) && (holder.namespaces === undefined || isRunning(holder.namespaces));
}
