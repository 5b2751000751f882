// A lab's negative control: the same notebook with every solution cell emptied, as a student
// who did nothing would hand it in. Its hidden checks must then fail.
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { readNotebook } from "../../runner/notebook/read.ts";
import { cellMetadata } from "../../runner/notebook/roles.ts";
import type { NotebookRunResult } from "../../runner/notebook/results.ts";
import { FIXTURE_ROOT } from "./notebooks.ts";

export function writeWithoutSolutions(path: string): string {
  const notebook = readNotebook(path);
  for (const cell of notebook.cells) {
    if (cell.cell_type === "code" && cellMetadata(cell, path).meta.role === "solution") cell.source = "// (solution removed: negative control)";
  }
  const dir = join(FIXTURE_ROOT, "negative-control");
  mkdirSync(dir, { recursive: true });
  const copy = join(dir, basename(path));
  writeFileSync(copy, `${JSON.stringify(notebook, null, 1)}\n`);
  return copy;
}

/** Hidden-check cells of a run that did not fail: each should have at least one failed check. */
export function hiddenChecksThatPassed(result: NotebookRunResult): string[] {
  return result.cells
    .filter((cell) => cell.role === "hidden-check")
    .filter((cell) => cell.status === "passed" && cell.checks.length > 0 && cell.checks.every((check) => check.passed))
    .map((cell) => `${cell.id}: ${cell.checks.map((check) => check.name).join("; ")}`);
}
