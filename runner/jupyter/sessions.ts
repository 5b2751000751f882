// Each `labbook notebook` session is marked, so that what it leaves behind is found and
// removed, never by name: its processes (Jupyter and the kernels, which inherit the marker
// variable) and its private directory in tmpdir() (which names its owner in a file).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killOwned, processesMarked, startTimeOf } from "../host/procfs.ts";

/** Carried by Jupyter and inherited by its kernels: how leftovers are found, never by name. */
export const OWNER_VARIABLE = "LABBOOK_NOTEBOOK_OWNER";
/** Private directories in tmpdir(): the kernelspec, Jupyter's runtime files, the token. */
const HOME_PREFIX = "labbook-notebook-";
/** The file in a session's directory that names its owner. */
const OWNER_FILE = "owner";

export interface Session {
  /** The session's private directory. */
  home: string;
  /** The value of OWNER_VARIABLE: this labbook process (pid and start time) and `home`. */
  marker: string;
}

/** Creates the session's private directory, which names this process as its owner. */
export function createSession(): Session {
  const home = mkdtempSync(join(tmpdir(), HOME_PREFIX));
  const marker = `${process.pid}:${startTimeOf(process.pid) ?? "?"}:${home}`;
  try {
    writeFileSync(join(home, OWNER_FILE), marker);
  } catch (error) {
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
  return { home, marker };
}

/** Kills the processes still carrying `marker`: kernels that outlived Jupyter. */
export async function killSessionProcesses(marker: string): Promise<void> {
  const leftovers = processesMarked((m) => m === marker, OWNER_VARIABLE);
  if (leftovers.length > 0) await killOwned(leftovers);
}

/**
 * Kernels of a `labbook notebook` killed with -9: Jupyter then gets SIGTERM (pdeathsig) and
 * stops its kernels, but a kernel still starting can survive it. Their owner is gone.
 */
export async function sweepAbandonedSessions(): Promise<void> {
  const ownerGone = (owner: string) => {
    const [pid, startTime] = owner.split(":");
    return startTimeOf(Number(pid)) !== startTime;
  };
  const abandoned = processesMarked(ownerGone, OWNER_VARIABLE);
  if (abandoned.length > 0) await killOwned(abandoned);
  // Their private directories too: each names its owner in a file.
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(HOME_PREFIX)) continue;
    const home = join(tmpdir(), entry);
    let owner: string;
    try {
      owner = readFileSync(join(home, OWNER_FILE), "utf8");
    } catch {
      continue; // not (yet) ours to judge
    }
    if (ownerGone(owner)) rmSync(home, { recursive: true, force: true });
  }
}
