// Runs around the whole suite: tests get a state directory and a scratch directory of their own,
// the host's network state is recorded before anything runs, and every test cluster and every
// scratch file (output folders, fixtures, kernels' directories) is removed at the end, also when
// tests failed.
import { rmSync } from "node:fs";
import { NetnsBackend } from "../../runner/backend/netns/driver.ts";
import { VagrantBackend } from "../../runner/backend/vagrant/driver.ts";
import { processScratch } from "../../runner/host/temp-dirs.ts";
import { snapshotHost, type HostSnapshot } from "./host-snapshot.ts";
import { sweepDeadTestRuns } from "./test-marker.ts";
import { claimTestRun } from "./test-run-lock.ts";

process.env.LABBOOK_STATE_DIR ??= "/run/labbook-test";
// Vagrant clusters, their VM disks and labbook's Vagrant home: on disk, away from the checkout's own.
process.env.LABBOOK_VAGRANT_DIR ??= "/var/tmp/labbook-test-vagrant";
// Every temporary directory of this run, the tests' and the labbook processes' they start, in one place; a run
// killed before its afterAll (CI's time limit sends SIGKILL) left its scratch, VM disks included, and the next
// run removes it.
const runScratch = processScratch("test-run");

export let hostBefore: HostSnapshot | undefined;
/** Set once this run holds its directories: only then may its last hook take their clusters down. */
let release: (() => void) | undefined;

export const mochaHooks = {
  async beforeAll(): Promise<void> {
    if (process.getuid?.() !== 0) {
      throw new Error("the integration tests build real namespaces and need root: run them as root (sudo npm test), or run npm run test:unit");
    }
    release = claimTestRun(`${process.env.LABBOOK_STATE_DIR}.lock`, process.env.LABBOOK_STATE_DIR!, process.env.LABBOOK_VAGRANT_DIR!);
    await sweepDeadTestRuns();
    hostBefore = snapshotHost();
  },
  async afterAll(): Promise<void> {
    if (release) {
      await new NetnsBackend().downAll();
      await new VagrantBackend().downAll();
      rmSync(process.env.LABBOOK_VAGRANT_DIR!, { recursive: true, force: true });
      release();
    }
    rmSync(runScratch, { recursive: true, force: true });
  },
};
