// Process bookkeeping through /proc. labbook kills only processes it can prove it
// started: the pid, the kernel's start time for that pid, and our marker variable.
import { readdirSync, readFileSync } from "node:fs";

export const MARKER_VARIABLE = "LABBOOK_OWNER";

export interface OwnedProcess {
  pid: number;
  /** Field 22 of /proc/PID/stat: tells a reused pid from the one we started. */
  startTime: string;
}

export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may contain spaces and parentheses: split after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z") return undefined; // a zombie is as good as gone
    return fields[19];
  } catch {
    return undefined;
  }
}

export function isRunning(proc: OwnedProcess): boolean {
  return startTimeOf(proc.pid) === proc.startTime;
}

export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The value of `variable` (our marker by default) in the process's environment. */
export function markerOf(pid: number, variable = MARKER_VARIABLE): string | undefined {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, "latin1");
    const entry = environ.split("\0").find((e) => e.startsWith(`${variable}=`));
    return entry?.slice(variable.length + 1);
  } catch {
    return undefined;
  }
}

/** Every process whose marker (`variable`) satisfies `match`: how leftovers of a `kill -9` are found. */
export function processesMarked(match: (marker: string) => boolean, variable = MARKER_VARIABLE): OwnedProcess[] {
  const found: OwnedProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const marker = markerOf(pid, variable);
    const startTime = marker !== undefined && match(marker) ? startTimeOf(pid) : undefined;
    if (startTime !== undefined) found.push({ pid, startTime });
  }
  return found;
}

/** Whether a process with this PID exists (one we may not signal counts). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** SIGKILL each process that is still the one we started, then wait until all are gone. */
export async function killOwned(candidates: OwnedProcess[], timeoutMs = 5000): Promise<number[]> {
  const procs = [...new Map(candidates.map((p) => [`${p.pid}:${p.startTime}`, p])).values()];
  const killed: number[] = [];
  for (const proc of procs) {
    if (!isRunning(proc)) continue;
    try {
      process.kill(proc.pid, "SIGKILL");
      killed.push(proc.pid);
    } catch {
      // already gone between the check and the kill
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (procs.some(isRunning)) {
    if (Date.now() > deadline) {
      const alive = procs.filter(isRunning).map((p) => p.pid);
      throw new Error(`processes ${alive.join(", ")} did not exit within ${timeoutMs} ms of SIGKILL`);
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return killed;
}
