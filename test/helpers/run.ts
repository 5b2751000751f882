import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetnsBackend } from "../../runner/backend/netns/driver.ts";
import type { Reporter } from "../../runner/report/types.ts";
import { readNotebook } from "../../runner/notebook/read.ts";
import { gradingPolicy } from "../../runner/run/grading-policy.ts";
import { runNotebook } from "../../runner/run/notebook-run.ts";
import type { NotebookRunResult } from "../../runner/notebook/results.ts";
import type { Notebook } from "../../runner/notebook/types.ts";
import { uniqueClusterName } from "./cluster.ts";

/** Runs a notebook headless on a fresh embedded cluster (`notebook`: instead of the file's, in its folder); `events` records what the reporter heard. */
export function runHeadless(path: string, options: { keepGoing: boolean; timeoutS?: number; events?: string[]; seed?: string; isolateHidden?: boolean; notebook?: Notebook; backend?: NetnsBackend }): Promise<NotebookRunResult> {
  const events = options.events ?? [];
  const reporter: Reporter = {
    onCellStart: (cell) => events.push(`start ${cell.id}`),
    onCheck: (check) => events.push(`check ${check.name} ${check.passed}`),
    onCellEnd: (cell) => events.push(`end ${cell.id} ${cell.status}`),
  };
  return runNotebook(options.notebook ?? readNotebook(path), path, {
    backend: options.backend ?? new NetnsBackend(),
    timeoutS: options.timeoutS ?? 60,
    keepGoing: options.keepGoing,
    outDir: mkdtempSync(join(tmpdir(), "labbook-run-")),
    reporter,
    clusterName: uniqueClusterName("nb"),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.isolateHidden ? { policy: gradingPolicy } : {}),
  });
}

/**
 * Runs `jobs` two at a time (the machine has 2 cores, and labs spend much of their time waiting
 * on daemons), memoized per key: each test awaits its own result, so the first test waits for
 * its job only, while the next ones are already running. A job a test asks for jumps the queue: with
 * mocha's --grep only the chosen tests ask, and they do not wait behind the jobs of the others.
 */
export function pooled<T>(jobs: Array<[key: string, run: () => Promise<T>]>, concurrency = 2): (key: string) => Promise<T> {
  const results = new Map<string, Promise<T>>();
  const queue: Array<{ key: string; start: () => void; result: Promise<T> }> = [];
  for (const [key, run] of jobs) {
    let start!: () => void;
    const started = new Promise<void>((resolve) => (start = resolve));
    const result = started.then(run);
    results.set(key, result);
    queue.push({ key, start, result });
  }
  const worker = async (): Promise<void> => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      job.start();
      await job.result.catch(() => undefined);
    }
  };
  let launched = false;
  return (key) => {
    const result = results.get(key);
    if (!result) throw new Error(`no pooled job "${key}"`);
    const waiting = queue.findIndex((job) => job.key === key);
    if (waiting > 0) queue.unshift(...queue.splice(waiting, 1));
    if (!launched) {
      launched = true;
      for (let i = 0; i < concurrency; i++) void worker();
    }
    return result;
  };
}
