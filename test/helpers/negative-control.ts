// A lab's negative control: the same notebook with every solution cell emptied, as a student
// who did nothing would hand it in. Its hidden checks must then fail.
import { readNotebook } from "../../runner/notebook/read.ts";
import { cellMetadata } from "../../runner/notebook/roles.ts";
import type { NotebookRunResult } from "../../runner/notebook/results.ts";
import type { Notebook } from "../../runner/notebook/types.ts";

/** In memory: it runs as the lab itself (its folder, its helpers), only without the solutions. */
export function withoutSolutions(path: string): Notebook {
  const notebook = readNotebook(path);
  for (const cell of notebook.cells) {
    if (cell.cell_type === "code" && cellMetadata(cell, path).meta.role === "solution") cell.source = "// (solution removed: negative control)";
  }
  return notebook;
}

/** Hidden-check cells of a run that did not fail: each should have at least one failed check. */
export function hiddenChecksThatPassed(result: NotebookRunResult): string[] {
  return result.cells
    .filter((cell) => cell.role === "hidden-check")
    .filter((cell) => cell.status === "passed" && cell.checks.length > 0 && cell.checks.every((check) => check.passed))
    .map((cell) => `${cell.id}: ${cell.checks.map((check) => check.name).join("; ")}`);
}
