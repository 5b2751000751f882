// What grading needs to know about an instructor's lab notebook, checked before anything runs:
// its exercises, each with the solution that follows it, its hidden checks, and their points.
import { createHash } from "node:crypto";
import { labIdOf } from "../notebook/lab-id.ts";
import { NotebookError, readNotebook } from "../notebook/read.ts";
import { cellMetadata, isRunnable, type LabbookCellMetadata } from "../notebook/roles.ts";
import { sourceText, type Cell, type Notebook } from "../notebook/types.ts";

export interface PlannedCell {
  /** A code cell; a grader-setup cell may be raw (see isRunnable). */
  cell: Cell;
  /** The cell's labbook id (metadata.labbook.id, else the nbformat cell id): what submissions are matched by. */
  id: string;
  meta: LabbookCellMetadata;
}

export interface Exercise {
  exercise: PlannedCell;
  solution: PlannedCell;
}

/** A hidden check grades the exercise before it. */
export interface HiddenCheck extends PlannedCell {
  exercise: string;
}

export interface LabPlan {
  path: string;
  notebook: Notebook;
  exercises: Exercise[];
  hiddenChecks: HiddenCheck[];
  /** Cells that prepare the fresh process the hidden checks run in when grading. */
  graderSetup: PlannedCell[];
}

/**
 * The rules `labbook assign` and `labbook grade` enforce on an instructor notebook (docs/grading.md lists them):
 * - every code cell's labbook id is unique;
 * - every exercise is followed by exactly one solution, before the next exercise;
 * - no solution without an exercise before it;
 * - every hidden check has a hint, which is all a student is shown of it;
 * - every hidden check comes after an exercise: it grades the exercise before it;
 * - points are non-negative numbers (checked when the notebook is read).
 */
export function planLab(path: string): LabPlan {
  const notebook = readNotebook(path);
  labIdOf(notebook, path); // a malformed id is refused before anything runs
  const problems: string[] = [];
  const cells: PlannedCell[] = [];
  notebook.cells.forEach((cell, index) => {
    if (!isRunnable(cell)) return;
    const { meta } = cellMetadata(cell, `${path}: cell ${index + 1}`);
    cells.push({ cell, id: meta.id ?? cell.id, meta });
  });
  const seen = new Map<string, number>();
  cells.forEach(({ id }, index) => {
    if (seen.has(id)) problems.push(`cell id "${id}" is used twice; exercises are matched to submissions by id`);
    seen.set(id, index);
  });

  const exercises: Exercise[] = [];
  const hiddenChecks: HiddenCheck[] = [];
  let open: PlannedCell | undefined;
  for (const planned of cells) {
    if (planned.meta.role === "hidden-check") {
      const graded = exercises.at(-1)?.exercise.id;
      if (graded === undefined) problems.push(`hidden check "${planned.id}" comes before any exercise: a hidden check grades the exercise before it`);
      else hiddenChecks.push({ ...planned, exercise: graded });
    } else if (planned.meta.role === "exercise") {
      if (open) problems.push(`exercise "${open.id}" has no solution cell before the next exercise "${planned.id}"`);
      open = planned;
    } else if (planned.meta.role === "solution") {
      if (!open) problems.push(`solution "${planned.id}" follows no exercise`);
      else exercises.push({ exercise: open, solution: planned });
      open = undefined;
    }
  }
  if (open) problems.push(`exercise "${open.id}" has no solution cell after it`);

  for (const hidden of hiddenChecks) if (!hidden.meta.hint?.trim()) problems.push(`hidden check "${hidden.id}" has no hint: students see only its name and hint`);
  if (exercises.length === 0 && problems.length === 0) problems.push("it has no exercise cell: there is nothing to assign or grade");

  if (problems.length > 0) throw new NotebookError(`${path}: not gradable:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  return { path, notebook, exercises, hiddenChecks, graderSetup: cells.filter((c) => c.meta.role === "grader-setup") };
}

/** The lab's id (notebook/lab-id.ts), e.g. "02-cross-host-routes": what `assign` stamps and submissions must carry. */
export function labId(plan: LabPlan): string {
  return labIdOf(plan.notebook, plan.path);
}

/**
 * Each hidden-check cell's version: a digest of what decides its verdict (its source and metadata, and the
 * grader-setup cells it runs after). An incremental regrade reruns a submission whose checks' versions changed.
 */
export function hiddenCheckVersions(plan: LabPlan): Record<string, string> {
  const setup = plan.graderSetup.map((g) => sourceText(g.cell.source)).join("\n");
  return Object.fromEntries(plan.hiddenChecks.map((h) => [h.id, createHash("sha256").update(JSON.stringify([setup, sourceText(h.cell.source), h.meta])).digest("hex").slice(0, 16)]));
}
