// The test suite's own guard (test/helpers/test-run-lock.ts): a second test run in the same directories is
// refused while the first lives, since its last hook would take down the first's clusters; a lock left by a
// run that is gone is taken over.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTimeOf } from "../../runner/host/procfs.ts";
import { claimTestRun, TestRunBusyError } from "../helpers/test-run-lock.ts";

describe("one test run at a time per state directory", () => {
  const lock = () => join(mkdtempSync(join(tmpdir(), "labbook-lock-")), "state.lock");

  it("refuses a second run while the first holds the lock, naming its PID and how to run beside it", async () => {
    const file = lock();
    const other = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      await new Promise((resolve) => other.once("spawn", resolve));
      writeFileSync(file, `${other.pid} ${startTimeOf(other.pid!)}\n`);
      assert.throws(() => claimTestRun(file, "/run/x", "/var/tmp/x"), (error: Error) => error instanceof TestRunBusyError && error.message.includes(`PID ${other.pid}`) && error.message.includes("LABBOOK_STATE_DIR="));
      assert.equal(readFileSync(file, "utf8"), `${other.pid} ${startTimeOf(other.pid!)}\n`, "the holder's lock is left as it was");
    } finally {
      other.kill("SIGKILL");
    }
  });

  it("takes over the lock of a run that is gone, and releases only its own", () => {
    const file = lock();
    writeFileSync(file, "999999999 12345\n"); // no such process
    const release = claimTestRun(file, "/run/x", "/var/tmp/x");
    assert.match(readFileSync(file, "utf8"), new RegExp(`^${process.pid} `));
    release();
    assert.equal(existsSync(file), false);
    // A PID reused by another process is not the run that wrote the lock: its start time differs.
    writeFileSync(file, `${process.pid} 1\n`);
    claimTestRun(file, "/run/x", "/var/tmp/x")();
    assert.equal(existsSync(file), false);
  });
});
