// A run killed with -9 leaves its scratch directories (a kernel's connection file, the grader's notes);
// the next `labbook down --all` removes those whose owner is gone, and never those of a live run.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ownedTempDir, removeStaleTempDirs } from "../../runner/host/temp-dirs.ts";

describe("scratch directories of runs", () => {
  it("removes those of dead processes only", () => {
    const gone = spawnSync("true").pid!; // exited: its PID names a dead owner
    const stale = join(tmpdir(), `labbook-notes-${gone}-abc123`);
    mkdirSync(join(stale, "inside"), { recursive: true });
    const live = ownedTempDir("kernel");
    assert.match(live, new RegExp(`labbook-kernel-${process.pid}-`));
    const removed = removeStaleTempDirs();
    assert.ok(removed.includes(stale), `not removed: ${stale}`);
    assert.equal(existsSync(stale), false);
    assert.equal(existsSync(live), true, "a live run's directory was removed");
    rmSync(live, { recursive: true });
  });
});
