// Cell totals, the same in every reporter.
import type { CellResult, NotebookRunResult } from "../notebook/results.ts";
import { isFailure } from "./status.ts";

export interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

/** Code cells only: markdown and raw cells ("not-run") are not tests. */
export function tallyCells(cells: readonly CellResult[]): Tally {
  const tally: Tally = { passed: 0, failed: 0, skipped: 0 };
  for (const cell of cells) {
    if (cell.status === "passed") tally.passed++;
    else if (cell.status === "skipped") tally.skipped++;
    else if (isFailure(cell.status)) tally.failed++;
  }
  return tally;
}

/**
 * The run's totals. A notebook whose run broke (infrastructureError) counts as one more
 * failure: it may have no cell results at all, and a CI job must not read it as green.
 */
export function tallyNotebooks(notebooks: readonly NotebookRunResult[]): Tally {
  const total: Tally = { passed: 0, failed: 0, skipped: 0 };
  for (const notebook of notebooks) {
    const tally = tallyCells(notebook.cells);
    total.passed += tally.passed;
    total.failed += tally.failed + (notebook.infrastructureError !== undefined ? 1 : 0);
    total.skipped += tally.skipped;
  }
  return total;
}

/** The closing-line form CI systems read: "3 passed, 1 failed, 0 skipped". */
export function formatTally(tally: Tally): string {
  return `${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped`;
}
