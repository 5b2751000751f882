// One test run at a time per state directory. A run's last hook takes down every cluster in its state and
// Vagrant directories, so a second run there would take down the first's: a node test run started beside
// `npm run test:vagrant:all` destroyed its VMs mid-`up`. The second run is refused instead, with the first's PID
// and how to run beside it. A lock left by a run that is gone (kill -9) is taken over.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { isRunning, startTimeOf } from "../../runner/host/procfs.ts";

export class TestRunBusyError extends Error {}

function holderOf(lock: string): { pid: number; startTime: string } | undefined {
  try {
    const [pid, startTime] = readFileSync(lock, "utf8").trim().split(" ");
    return Number.isInteger(Number(pid)) && startTime ? { pid: Number(pid), startTime } : undefined;
  } catch {
    return undefined;
  }
}

/** Takes `lock` for this process, or throws naming the live run that holds it; returns the release. */
export function claimTestRun(lock: string, stateDir: string, vagrantDir: string): () => void {
  mkdirSync(dirname(lock), { recursive: true });
  const mine = `${process.pid} ${startTimeOf(process.pid)}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, "wx", 0o644);
      writeFileSync(fd, mine);
      closeSync(fd);
      return () => {
        if (holderOf(lock)?.pid === process.pid) rmSync(lock, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = holderOf(lock);
    if (holder && isRunning(holder)) {
      throw new TestRunBusyError(`another test run (PID ${holder.pid}) is using ${stateDir} and ${vagrantDir}, and this run would take down its clusters when it ends; wait for it, or run beside it in directories of its own, e.g. LABBOOK_STATE_DIR=${stateDir}-2 LABBOOK_VAGRANT_DIR=${vagrantDir}-2`);
    }
    rmSync(lock, { force: true }); // its run is gone
  }
  throw new TestRunBusyError(`cannot take ${lock}: another test run keeps taking it`);
}
