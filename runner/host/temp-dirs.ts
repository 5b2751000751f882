// Scratch directories of a run (a kernel's connection file, the grader's notes, graded notebooks, a test run's
// scratch with its VMs' disks) carry the owning process's PID in their names, so that after a kill -9 the next
// `labbook down --all` (or test run) can tell leftovers from the directories of a run still going, and remove
// only those.
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pidAlive } from "./procfs.ts";

const OWNED = /^labbook-(kernel|notes|grade|test-run|bench)-(\d+)-/;

/** A new directory in the system's temp dir, named `labbook-<kind>-<pid>-XXXXXX`. */
export function ownedTempDir(kind: "kernel" | "notes" | "grade" | "test-run" | "bench"): string {
  return mkdtempSync(join(tmpdir(), `labbook-${kind}-${process.pid}-`));
}

/**
 * A scratch directory for the whole of this process and everything it starts (TMPDIR points there), so that a
 * test or bench run leaves nothing in /tmp however its parts name their temporary files: the run removes it at
 * its end, and the next run removes it if this one was killed first. Stale ones are removed first.
 */
export function processScratch(kind: "test-run" | "bench"): string {
  removeStaleTempDirs();
  const scratch = ownedTempDir(kind);
  // Like /tmp itself: tests also run labbook as nobody (tsx keeps its cache under TMPDIR).
  chmodSync(scratch, 0o1777);
  process.env.TMPDIR = scratch;
  return scratch;
}

/** Removes the scratch directories whose owner is gone; returns their paths. */
export function removeStaleTempDirs(): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(tmpdir())) {
    const owner = OWNED.exec(name);
    if (!owner || pidAlive(Number(owner[2]))) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
    removed.push(join(tmpdir(), name));
  }
  return removed;
}
