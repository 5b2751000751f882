// inotify instances are counted per user for the whole machine (fs.inotify.max_user_instances, 128 by
// default), and every node's root is the machine's root: kubelet, containerd, the apiserver and the
// controllers of one 3-node Kubernetes cluster hold about 45 of them. labbook never raises the limit (the
// host stays as it was), so `up` checks the room left first and says what a full machine means.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { LabbookError } from "../errors.ts";

/** What one 3-node cluster held, measured (kubelet 7 per node, containerd 2, apiserver 6, controller-manager 7...), with room for pods. */
export const INOTIFY_PER_NODE = 20;

function limit(): number {
  return Number(readFileSync("/proc/sys/fs/inotify/max_user_instances", "utf8").trim());
}

/** inotify instances a process holds; 0 when it is gone. */
function instancesOf(pid: number | string): number {
  let count = 0;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === "anon_inode:inotify") count++;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // the process exited meanwhile
  }
  return count;
}

/** inotify instances held by processes of user `uid` (root: every node's). */
export function inotifyInstancesInUse(uid = 0): number {
  let count = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/status`, "utf8").includes(`\nUid:\t${uid}\t`)) count += instancesOf(entry);
    } catch {
      // the process exited meanwhile
    }
  }
  return count;
}

/** inotify instances these processes hold (one cluster's, found by its marker). */
export function inotifyInstancesOf(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + instancesOf(pid), 0);
}

export interface RoomOptions {
  nodes: number;
  /**
   * Instances other Kubernetes clusters will soon hold, not counted yet: the share of those still starting,
   * and what those whose lab has not started its deferred parts (flanneld, kube-proxy, their pods) lack of theirs.
   */
  reserved: () => number;
  /** Whether another cluster will go away by itself (an ephemeral one of `labbook run` or `grade`): then wait. */
  canWait: () => boolean;
  onProgress?: (message: string) => void;
  timeoutMs?: number;
}

/**
 * Returns once Kubernetes on `nodes` nodes fits in the inotify instances left. When it does not, and another
 * run's cluster will go away by itself (`labbook run --jobs`, `grade`, a test pool), it waits for that;
 * otherwise (or after `timeoutMs`) it throws, before any node starts, saying what a full machine means.
 */
export async function waitForInotifyRoom(options: RoomOptions): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 20 * 60_000);
  let said = false;
  for (;;) {
    const max = limit();
    const used = inotifyInstancesInUse();
    const reserved = options.reserved();
    const needed = options.nodes * INOTIFY_PER_NODE;
    if (used + reserved + needed <= max) return;
    if (!options.canWait() || Date.now() > deadline) {
      throw new LabbookError(
        `not enough inotify instances left for Kubernetes on ${options.nodes} nodes: root holds ${used} of fs.inotify.max_user_instances=${max}` +
          `${reserved ? `, clusters still starting will take about ${reserved} more,` : ""} and it needs about ${needed} (kubelet, containerd and the control plane watch their files). ` +
          `Take down another Kubernetes cluster (labbook status), or have the machine's administrator raise the limit ` +
          `(sysctl fs.inotify.max_user_instances=1024): labbook never changes the host's settings.`,
      );
    }
    if (!said) options.onProgress?.(`waiting for another run's Kubernetes cluster to go down: ${used} of ${max} inotify instances are in use, and this one needs about ${needed}`);
    said = true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** How many more Kubernetes clusters of `nodes` nodes fit in the inotify instances left (grade's and run's --jobs). */
export function kubernetesClusterRoom(nodes: number): { room: number; used: number; max: number } {
  const max = limit();
  const used = inotifyInstancesInUse();
  return { room: Math.max(0, Math.floor((max - used) / (nodes * INOTIFY_PER_NODE))), used, max };
}
