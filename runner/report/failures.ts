// What went wrong in a notebook run, as reporters list it.
import type { CellResult, NotebookRunResult } from "../notebook/results.ts";
import { isFailure, STATUS_LABEL } from "./status.ts";

/**
 * True when a cell did not pass for a reason none of its checks reports: it threw, timed
 * out or lost its kernel. Such a cell needs its own entry; otherwise its failed checks
 * already say what went wrong.
 */
export function failsBeyondChecks(cell: CellResult): boolean {
  return isFailure(cell.status) && !cell.checks.some((check) => !check.passed);
}

/** "AssertionError: expected 2 routes" or, with no error recorded, "timed out". */
export function cellErrorSummary(cell: CellResult): string {
  return cell.error ? `${cell.error.name}: ${cell.error.message}` : STATUS_LABEL[cell.status];
}

export interface Failure {
  notebook: string;
  /** Absent for an infrastructure error. */
  cellId?: string;
  /** The failed check's name, or what happened to the cell ("timed out"). */
  what: string;
  message: string;
}

export function listFailures(result: NotebookRunResult): Failure[] {
  const failures: Failure[] = [];
  if (result.infrastructureError !== undefined) {
    failures.push({ notebook: result.notebook, what: "infrastructure error", message: result.infrastructureError });
  }
  for (const cell of result.cells) {
    for (const check of cell.checks) {
      if (!check.passed) failures.push({ notebook: result.notebook, cellId: cell.id, what: check.name, message: check.message });
    }
    if (failsBeyondChecks(cell)) {
      const message = cell.error ? `${cell.error.name}: ${cell.error.message}` : cell.title;
      failures.push({ notebook: result.notebook, cellId: cell.id, what: STATUS_LABEL[cell.status], message });
    }
  }
  return failures;
}
