// The cells of one run, in the order its policy gives, each in the session the policy says: a cell whose
// requirements the cluster does not meet is skipped with the reason, and without --keep-going so is every
// cell after a failure but teardown. The executed notebook is written after every cell (as papermill
// does), so a run that ends early still leaves what it did; the reporter hears each cell as it goes.
import { writeNotebook } from "../notebook/read.ts";
import type { CellResult, CheckOutcome } from "../notebook/results.ts";
import { cellMetadata, isRunnable } from "../notebook/roles.ts";
import type { CodeCell, Notebook } from "../notebook/types.ts";
import type { Reporter } from "../report/types.ts";
import { runCell } from "./cell.ts";
import type { RunningRun } from "./life-cycle.ts";
import type { PolicyRun, RunnableCell } from "./policy.ts";
import { unmetRequirements } from "./requirements.ts";
import { cellTitle } from "./titles.ts";

export interface CellsOptions {
  /** The source notebook's path: reports name cells by it. */
  path: string;
  /** Where the executed notebook is written. */
  executedPath: string;
  /** Default per-cell timeout in seconds; a cell's metadata.labbook.timeout overrides it. */
  timeoutS: number;
  /**
   * The backend's time scale (sdk/time-scale.ts): every cell's timeout is stretched by it, as the labs' own
   * `kubectl --timeout=` are. On VMs under software emulation a cell of lab 09 that waits for a pod (240 s
   * there) ran past its 300 s (2026-12-04). Default 1.
   */
  timeScale?: number;
  keepGoing: boolean;
  reporter: Reporter;
}

export function runnableCells(notebook: Notebook, path: string): RunnableCell[] {
  return notebook.cells.flatMap((cell, index) => (isRunnable(cell) ? [{ cell, index, meta: cellMetadata(cell, `${path}: cell ${index + 1}`).meta }] : []));
}

/** Runs `policy`'s cells of `notebook`, writing their outputs into it; the results come in notebook order. */
export async function runCells(notebook: Notebook, run: RunningRun, policy: PolicyRun, options: CellsOptions): Promise<CellResult[]> {
  const results: CellResult[] = [];
  let stopped: string | undefined;
  let executionCount = 0;
  for (const entry of policy.order) {
    const next = policy.sessionFor(entry);
    if (next) await run.switchTo(next);
    const { index, meta } = entry;
    // A raw grader-setup cell runs as code; the executed notebook keeps it raw, without outputs.
    const cell: CodeCell = entry.cell.cell_type === "code" ? entry.cell : { ...entry.cell, cell_type: "code", outputs: [], execution_count: null };
    const base = { index, id: meta.id ?? cell.id, role: meta.role, title: cellTitle(cell), checks: [] };
    options.reporter.onCellStart?.({ notebook: options.path, ...base });
    const skipReason = unmetRequirements(run.cluster, meta.requires) ?? policy.skipReason(entry) ?? (meta.role === "teardown" ? undefined : stopped);
    let result: CellResult;
    if (skipReason) {
      result = { ...base, status: "skipped", durationMs: 0, skipReason };
    } else {
      const onCheck = (check: CheckOutcome) => options.reporter.onCheck?.({ ...check, notebook: options.path, cellIndex: index });
      result = await runCell(cell, base, (meta.timeout ?? options.timeoutS) * (options.timeScale ?? 1), run.session(), onCheck);
      if (result.executionCount !== undefined) executionCount = result.executionCount;
      cell.execution_count = result.executionCount ?? ++executionCount;
      const failed = result.status !== "passed";
      if (failed && !options.keepGoing && meta.role !== "teardown") stopped = `an earlier required cell (${base.id}) ${result.status === "failed" ? "failed" : result.status}; run with --keep-going to run the rest anyway`;
    }
    results.push(result);
    options.reporter.onCellEnd?.({ ...result, notebook: options.path });
    writeNotebook(options.executedPath, notebook);
  }
  writeNotebook(options.executedPath, notebook); // a notebook without code cells is written too
  return results.sort((a, b) => a.index - b.index);
}
