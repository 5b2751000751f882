// Runs around the whole suite: tests get a state directory and a scratch directory of their own,
// the host's network state is recorded before anything runs, and every test cluster and every
// scratch file (output folders, fixtures, kernels' directories) is removed at the end, also when
// tests failed.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetnsBackend } from "../../runner/backend/netns/driver.ts";
import { VagrantBackend } from "../../runner/backend/vagrant/driver.ts";
import { isRunning, startTimeOf, type OwnedProcess } from "../../runner/host/procfs.ts";
import { snapshotHost, type HostSnapshot } from "./host-snapshot.ts";

process.env.LABBOOK_STATE_DIR ??= "/run/labbook-test";
// Vagrant clusters, their VM disks and labbook's Vagrant home: on disk, away from the checkout's own.
process.env.LABBOOK_VAGRANT_DIR ??= "/var/tmp/labbook-test-vagrant";
// Every temporary directory of this run, the tests' and the labbook processes' they start, in one place.
const SCRATCH_PREFIX = "labbook-test-run-";
const OWNER_FILE = "owner.json";
const runScratch = mkdtempSync(join(tmpdir(), SCRATCH_PREFIX));
writeFileSync(join(runScratch, OWNER_FILE), JSON.stringify({ pid: process.pid, startTime: startTimeOf(process.pid) }));
sweepScratchOfDeadRuns();
// Like /tmp itself: tests also run labbook as nobody (tsx keeps its cache under TMPDIR).
chmodSync(runScratch, 0o1777);
process.env.TMPDIR = runScratch;

export let hostBefore: HostSnapshot | undefined;

export const mochaHooks = {
  beforeAll(): void {
    if (process.getuid?.() !== 0) {
      throw new Error("the integration tests build real namespaces and need root: run them as root (sudo npm test), or run npm run test:unit");
    }
    hostBefore = snapshotHost();
  },
  async afterAll(): Promise<void> {
    await new NetnsBackend().downAll();
    await new VagrantBackend().downAll();
    rmSync(process.env.LABBOOK_VAGRANT_DIR!, { recursive: true, force: true });
    rmSync(runScratch, { recursive: true, force: true });
  },
};

/**
 * The scratch directories of runs that were killed before their afterAll (CI's time limit sends SIGKILL; a VM
 * test's leaves gigabytes of disks): each names its run's process, and goes once that process is gone. One
 * without an owner file is a run from before owner files, or one just starting: it goes after an hour.
 */
function sweepScratchOfDeadRuns(): void {
  for (const name of readdirSync(tmpdir())) {
    const dir = join(tmpdir(), name);
    if (!name.startsWith(SCRATCH_PREFIX) || dir === runScratch) continue;
    try {
      const owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), "utf8")) as OwnedProcess;
      if (isRunning(owner)) continue;
    } catch {
      try {
        if (Date.now() - statSync(dir).mtimeMs < 3_600_000) continue;
      } catch {
        continue;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
