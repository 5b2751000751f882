// The unit tests' scratch: every temporary directory they make goes into one directory of the run, removed at
// its end (and by the next run, if this one was killed). The integration suite's root hooks do the same.
import { rmSync } from "node:fs";
import { processScratch } from "../../runner/host/temp-dirs.ts";

const runScratch = processScratch("test-run");

export const mochaHooks = {
  afterAll(): void {
    rmSync(runScratch, { recursive: true, force: true });
  },
};
