import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetnsBackend } from "../../runner/backend/netns/driver.ts";
import type { Reporter } from "../../runner/report/types.ts";
import { runNotebook } from "../../runner/run/notebook-run.ts";
import type { NotebookRunResult } from "../../runner/run/results.ts";
import { uniqueClusterName } from "./cluster.ts";

/** Runs a notebook headless on a fresh embedded cluster; `events` records what the reporter heard. */
export function runHeadless(path: string, options: { keepGoing: boolean; timeoutS?: number; events?: string[]; seed?: string }): Promise<NotebookRunResult> {
  const events = options.events ?? [];
  const reporter: Reporter = {
    onCellStart: (cell) => events.push(`start ${cell.id}`),
    onCheck: (check) => events.push(`check ${check.name} ${check.passed}`),
    onCellEnd: (cell) => events.push(`end ${cell.id} ${cell.status}`),
  };
  return runNotebook(path, {
    backend: new NetnsBackend(),
    timeoutS: options.timeoutS ?? 60,
    keepGoing: options.keepGoing,
    outDir: mkdtempSync(join(tmpdir(), "labbook-run-")),
    reporter,
    clusterName: uniqueClusterName("nb"),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  });
}
