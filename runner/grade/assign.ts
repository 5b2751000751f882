// `labbook assign`: the student's version of an instructor notebook. Solutions, hidden checks and
// the grader's setup are removed entirely, not hidden: no source, no outputs, no metadata of theirs remains, so a
// student who opens the JSON learns nothing from it.
import { createHash } from "node:crypto";
import { privilegedOf } from "../notebook/privileged.ts";
import { sourceText, type Cell, type Notebook } from "../notebook/types.ts";
import { labId, type LabPlan } from "./lab-plan.ts";

/** metadata.labbook of a student notebook: which lab it is, so `grade` can refuse another lab's. */
export interface AssignmentStamp {
  lab: string;
  /** Exercise ids, in order. */
  exercises: string[];
  /** A digest of the instructor notebook's student-visible cells: changes when the lab changes. */
  version: string;
  /**
   * Each student-visible code cell's digest as handed out, by id: grading tells "you changed this cell" from
   * "the lab changed since you got it" (a student's source that matches what they were given is not their edit).
   */
  cells?: Record<string, string>;
}

/** The cells a student gets: the lab's, without solutions, hidden checks and grader setup. */
export function studentCells(plan: LabPlan): Cell[] {
  const removed = new Set<Cell>([...plan.exercises.map((e) => e.solution.cell), ...plan.hiddenChecks.map((h) => h.cell), ...plan.graderSetup.map((g) => g.cell)]);
  return plan.notebook.cells
    .filter((cell) => !removed.has(cell))
    .map((cell): Cell => (cell.cell_type === "code" ? { ...cell, outputs: [], execution_count: null } : { ...cell }));
}

/** A cell source's digest, as the stamp keeps it. */
export function sourceDigest(source: string): string {
  return createHash("sha256").update(source.trim()).digest("hex").slice(0, 16);
}

function digestOf(cells: Cell[]): string {
  return createHash("sha256").update(JSON.stringify(cells.map((c) => [c.id, c.source]))).digest("hex").slice(0, 16);
}

/** The version `assign` stamps: changes when anything a student sees changes. */
export function labVersion(plan: LabPlan): string {
  return digestOf(studentCells(plan));
}

/** `who`: a copy for one student, naming them and their variant (grade/variants.ts), which Jupyter's runs then use. */
export function studentNotebook(plan: LabPlan, who: { student?: string; variant?: string } = {}): Notebook {
  const cells = studentCells(plan);
  const code = cells.filter((c) => c.cell_type === "code");
  const stamp: AssignmentStamp = {
    lab: labId(plan),
    exercises: plan.exercises.map((e) => e.exercise.id),
    version: digestOf(cells),
    cells: Object.fromEntries(code.map((c) => [(c.metadata.labbook as { id?: string } | undefined)?.id ?? c.id, sourceDigest(sourceText(c.source))])),
  };
  return { ...plan.notebook, metadata: { ...plan.notebook.metadata, labbook: { id: stamp.lab, ...privilegedOf(plan.notebook), ...who, assignment: stamp } }, cells };
}
