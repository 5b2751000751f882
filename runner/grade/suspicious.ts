// What in a graded run looks like tampering, for the instructor (gradebook.json's `suspicious`, and a column of
// gradebook.csv): it flags and never changes a score, since scores come from the hidden checks' own process
// whatever a student's kernel did. Each flag has a kind (the CSV column lists them) and a detail that may name
// hidden cells, so it never goes into a student's feedback.
import { readFileSync } from "node:fs";
import type { NotebookRunResult } from "../notebook/results.ts";
import { checkKeys, keyString, type CheckKey } from "./score.ts";
import { sourceText, type Notebook } from "../notebook/types.ts";

export type SuspicionKind = "check-mime" | "display-hook" | "hidden-id" | "lab-check-name" | "missing-check" | "refused-write";

export interface Suspicion {
  kind: SuspicionKind;
  detail: string;
}

/** A write the sandbox or the nodes' read-only host files turned down, as a cell's error or output says it. */
const REFUSED_WRITE = /read-only file system|EROFS|EACCES|permission denied/i;

function exerciseOutputs(run: NotebookRunResult, ids: Set<string>): string[] {
  try {
    const notebook = JSON.parse(readFileSync(run.executedNotebook, "utf8")) as Notebook;
    return notebook.cells.flatMap((cell) => {
      const id = (cell.metadata.labbook as { id?: string } | undefined)?.id ?? cell.id;
      if (cell.cell_type !== "code" || !ids.has(id)) return [];
      return cell.outputs.flatMap((o) => ("text" in o && o.text !== undefined ? [sourceText(o.text)] : []));
    });
  } catch {
    return []; // no executed notebook (the run could not start): nothing to read
  }
}

/** What a graded run shows: the lab's check names reported from the student's cells, lab checks gone missing, refused writes. */
export function runSuspicions(run: NotebookRunResult, labCheckNames: Set<string>, visible: CheckKey[]): Suspicion[] {
  const found: Suspicion[] = [];
  const exerciseCells = run.cells.filter((c) => c.role === "exercise");
  for (const cell of exerciseCells) {
    for (const check of cell.checks) {
      if (labCheckNames.has(check.name)) found.push({ kind: "lab-check-name", detail: `exercise cell "${cell.id}" reported a check named like one of the lab's: "${check.name}"` });
    }
  }
  const observed = new Set(checkKeys(run.cells.filter((c) => c.role === "check")).map(keyString));
  const statusOf = new Map(run.cells.map((c) => [c.id, c.status]));
  for (const key of visible) {
    if (!observed.has(keyString(key)) && statusOf.get(key.cell) === "passed") {
      found.push({ kind: "missing-check", detail: `the lab's check "${key.name}" (cell ${key.cell}) reported nothing though its cell ran: was the display hook replaced?` });
    }
  }
  const ids = new Set(exerciseCells.map((c) => c.id));
  const texts = [...exerciseCells.flatMap((c) => (c.error ? [c.error.message] : [])), ...exerciseOutputs(run, ids)];
  const refused = texts.flatMap((t) => t.split("\n")).filter((line) => REFUSED_WRITE.test(line));
  if (refused.length) found.push({ kind: "refused-write", detail: `a write was refused: ${[...new Set(refused)].slice(0, 3).map((l) => l.trim().slice(0, 200)).join(" / ")}` });
  return found;
}
