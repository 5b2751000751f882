// `labbook assign`: the student's version of an instructor notebook. Solutions, hidden checks and
// the grader's setup are removed entirely, not hidden: no source, no outputs, no metadata of theirs remains, so a
// student who opens the JSON learns nothing from it.
import { createHash } from "node:crypto";
import type { Cell, Notebook } from "../notebook/types.ts";
import { labName, type LabPlan } from "./lab-plan.ts";

/** metadata.labbook of a student notebook: which lab it is, so `grade` can refuse another lab's. */
export interface AssignmentStamp {
  lab: string;
  /** Exercise ids, in order. */
  exercises: string[];
  /** A digest of the instructor notebook's student-visible cells: changes when the lab changes. */
  version: string;
}

function studentCells(plan: LabPlan): Cell[] {
  const removed = new Set<Cell>([...plan.exercises.map((e) => e.solution.cell), ...plan.hiddenChecks.map((h) => h.cell), ...plan.graderSetup.map((g) => g.cell)]);
  return plan.notebook.cells
    .filter((cell) => !removed.has(cell))
    .map((cell): Cell => (cell.cell_type === "code" ? { ...cell, outputs: [], execution_count: null } : { ...cell }));
}

function digestOf(cells: Cell[]): string {
  return createHash("sha256").update(JSON.stringify(cells.map((c) => [c.id, c.source]))).digest("hex").slice(0, 16);
}

/** The version `assign` stamps: changes when anything a student sees changes. */
export function labVersion(plan: LabPlan): string {
  return digestOf(studentCells(plan));
}

export function studentNotebook(plan: LabPlan): Notebook {
  const cells = studentCells(plan);
  const stamp: AssignmentStamp = { lab: labName(plan), exercises: plan.exercises.map((e) => e.exercise.id), version: digestOf(cells) };
  return { ...plan.notebook, metadata: { ...plan.notebook.metadata, labbook: { assignment: stamp } }, cells };
}
