// Processes a test starts outside labbook's own clusters (the plain-vagrant-up test's VM host) carry a marker
// with the test run's PID. A run killed before its hooks (Ctrl-C ends mocha without them, CI's time limit sends
// SIGKILL) leaves them running; the next run kills those whose run is gone, and only those: a run still going
// keeps its own.
import { killOwned, pidAlive, processesMarked } from "../../runner/host/procfs.ts";

const PREFIX = "labbook-test::";

export function testMarker(what: string): string {
  return `${PREFIX}${what}::${process.pid}`;
}

/** Kills the marked processes of test runs that are gone; returns their PIDs. */
export async function sweepDeadTestRuns(): Promise<number[]> {
  const orphans = processesMarked((marker) => {
    if (!marker.startsWith(PREFIX)) return false;
    const owner = Number(marker.slice(marker.lastIndexOf("::") + 2));
    return Number.isInteger(owner) && owner > 0 && !pidAlive(owner);
  });
  return orphans.length > 0 ? killOwned(orphans, 30_000) : [];
}
