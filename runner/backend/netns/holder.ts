// A holder is the process that keeps a node's namespaces alive:
//   unshare --net --mount --uts --pid --fork --kill-child -- tini -- sleep infinity
// tini is PID 1 of the node; killing it makes the kernel kill everything inside.
import { spawn } from "node:child_process";
import { LabbookError } from "../../errors.ts";
import { MARKER_VARIABLE, childrenOf, commOf, startTimeOf } from "./procfs.ts";
import type { HolderRecord } from "./state.ts";

const UNSHARE_ARGS = ["--net", "--mount", "--uts", "--ipc", "--pid", "--fork", "--kill-child", "--propagation", "private"];

export async function spawnHolder(marker: string): Promise<HolderRecord> {
  const child = spawn("unshare", [...UNSHARE_ARGS, "--", "tini", "-s", "--", "sleep", "infinity"], {
    detached: true, // own session: a Ctrl-C aimed at the CLI must not reach the nodes
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
