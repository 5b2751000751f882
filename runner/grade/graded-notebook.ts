// The notebook a submission is graded with: the instructor's cells, in the instructor's order, with
// the student's sources in the exercise cells and nothing else of theirs. Solutions are left out, so
// the student's work alone changes the cluster; hidden checks and grader-setup stay, and the runner
// gives them a kernel of their own.
import { privilegedOf } from "../notebook/privileged.ts";
import type { Cell, CodeCell, Notebook } from "../notebook/types.ts";
import type { LabPlan } from "./lab-plan.ts";
import type { Submission } from "./submission.ts";

/** `exerciseTimeoutS` bounds the student's cells (an endless loop); the lab's own cells keep theirs. */
export function gradedNotebook(plan: LabPlan, submission: Submission, exerciseTimeoutS: number): Notebook {
  const solutions = new Set<Cell>(plan.exercises.map((e) => e.solution.cell));
  const answerFor = new Map(plan.exercises.map((e) => [e.exercise.cell as Cell, { id: e.exercise.id, answer: submission.answers.get(e.exercise.id) }]));
  const cells: Cell[] = [];
  for (const cell of plan.notebook.cells) {
    if (solutions.has(cell)) continue;
    const exercise = answerFor.get(cell);
    if (!exercise) {
      cells.push(cell.cell_type === "code" ? { ...cell, outputs: [], execution_count: null } : cell);
      continue;
    }
    const original = cell as CodeCell;
    const base = { ...original, metadata: { ...original.metadata, labbook: { ...(original.metadata.labbook as object), timeout: exerciseTimeoutS } } };
    const source = exercise.answer?.source ?? `// (exercise "${exercise.id}" is missing from the submission)`;
    cells.push({ ...base, source, outputs: [], execution_count: null });
    exercise.answer?.added.forEach((added, n) => {
      const id = `${exercise.id}-added-${n + 1}`;
      cells.push({ ...base, id, source: added, outputs: [], execution_count: null, metadata: { labbook: { ...(base.metadata.labbook as object), id, points: 0 } } });
    });
  }
  return { ...plan.notebook, metadata: { ...plan.notebook.metadata, labbook: { ...privilegedOf(plan.notebook), graded: { student: submission.student, submission: submission.path } } }, cells };
}
