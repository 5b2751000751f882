// Scores from the runner's own record of the hidden checks, which ran in a kernel the student's code
// never touched. What a full score is comes from the reference run (the instructor's solution on a
// cluster of its own): a hidden cell that stops early cannot shrink its own denominator.
import { NotebookError } from "../notebook/read.ts";
import type { CellResult, NotebookRunResult } from "../notebook/results.ts";
import type { FinalScore } from "./final-scores.ts";
import type { LabPlan } from "./lab-plan.ts";
import type { Suspicion } from "./suspicious.ts";

export interface ExpectedCheck {
  /** The hidden-check cell's id. */
  cell: string;
  name: string;
  /** Among checks of the same name in the cell: a loop may repeat one. */
  occurrence: number;
  points: number;
  exercise: string;
  hint: string;
}

export interface CheckScore {
  cell: string;
  name: string;
  passed: boolean;
  points: number;
  /** What a student is shown: the instructor's hint. */
  hint: string;
  /** What the check observed: for the instructor only, never in student feedback. */
  detail: string;
}

export interface ExerciseScore {
  id: string;
  max: number;
  earned: number;
  submitted: boolean;
  checks: CheckScore[];
}

export interface VisibleCheck {
  cell: string;
  name: string;
  passed: boolean;
  message: string;
}

export type GradeStatus = "graded" | "rejected" | "error";

export interface StudentGrade {
  student: string;
  file: string;
  status: GradeStatus;
  /** For rejected and error: why. */
  reason?: string;
  total: number;
  max: number;
  exercises: ExerciseScore[];
  /** The lab's visible checks as the student would see them, and how the student's own cells ended. */
  visibleChecks: VisibleCheck[];
  exerciseCells: Array<{ id: string; status: string; error?: string }>;
  notes: string[];
  /** For the instructor only: what looked like tampering (suspicious.ts); never in the feedback, never in the score. */
  suspicious: Suspicion[];
  durationMs: number;
  executedNotebook?: string;
  /** When the student handed it in, as grading read it (the file's modification time); a manifest may say otherwise. */
  submittedAt?: string;
  /** The submission file's digest: an incremental regrade skips what did not change. */
  submissionDigest?: string;
  /** Each hidden-check cell's version (lab-plan.ts hiddenCheckVersions) this grade was scored with. */
  checkVersions?: Record<string, string>;
  /** The student's variant of a lab that offers some (grade/variants.ts): the seed their run had. */
  variant?: string;
  /** Written with the gradebook: the raw score with overrides and the late policy on top (final-scores.ts). */
  final?: FinalScore;
}

/** A check as a run reports it: its cell, its name, and which of that cell's checks of that name it is. */
export interface CheckKey {
  cell: string;
  name: string;
  occurrence: number;
}

export const keyString = (k: CheckKey) => `${k.cell}\u0000${k.name}\u0000${k.occurrence}`;

function withOccurrences(cells: CellResult[]): Array<{ cell: CellResult; name: string; occurrence: number; passed: boolean; message: string; points: number | undefined }> {
  return cells.flatMap((cell) => {
    const seen = new Map<string, number>();
    return cell.checks.map((check) => {
      const occurrence = (seen.get(check.name) ?? 0) + 1;
      seen.set(check.name, occurrence);
      return { cell, name: check.name, occurrence, passed: check.passed, message: check.message, points: check.points };
    });
  });
}

export function checkKeys(cells: CellResult[]): CheckKey[] {
  return withOccurrences(cells).map(({ cell, name, occurrence }) => ({ cell: cell.id, name, occurrence }));
}

/** The hidden checks a full answer passes, from the reference run; a lab whose solution fails one is not gradable. */
export function expectedChecks(plan: LabPlan, reference: NotebookRunResult): ExpectedCheck[] {
  if (reference.infrastructureError) throw new NotebookError(`${plan.path}: the reference run (the instructor's solution) could not run: ${reference.infrastructureError}`);
  const hidden = new Map(plan.hiddenChecks.map((h) => [h.id, h]));
  const cells = reference.cells.filter((c) => hidden.has(c.id));
  const broken = cells.filter((c) => c.status !== "passed" && !(c.status === "skipped" && c.skipReason?.startsWith("needs ")));
  const failing = withOccurrences(cells).filter((c) => !c.passed);
  if (broken.length || failing.length) {
    const what = [...failing.map((f) => `"${f.name}" (${f.cell.id}): ${f.message}`), ...broken.filter((b) => b.checks.every((c) => c.passed)).map((b) => `${b.id}: ${b.error?.message ?? b.status}`)];
    throw new NotebookError(`${plan.path}: the instructor's solution fails its own hidden checks, so no score would be fair; fix the lab first:\n${what.map((w) => `  ${w}`).join("\n")}`);
  }
  const expected = withOccurrences(cells).map(({ cell, name, occurrence, points }) => {
    const planned = hidden.get(cell.id)!;
    return { cell: cell.id, name, occurrence, points: points ?? 1, exercise: planned.exercise, hint: planned.meta.hint ?? "" };
  });
  for (const h of plan.hiddenChecks) {
    if (!expected.some((e) => e.cell === h.id) && !cells.some((c) => c.id === h.id && c.status === "skipped")) {
      throw new NotebookError(`${plan.path}: hidden-check cell "${h.id}" recorded no check in the reference run; a hidden check must call check()`);
    }
  }
  return expected;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** The lab's visible checks as the reference run reported them: a graded run that lacks one reports it missing. */
export function expectedVisibleChecks(reference: NotebookRunResult): CheckKey[] {
  return checkKeys(reference.cells.filter((c) => c.role === "check"));
}

/** Scores one graded run against the expected checks; `visible`: the reference's visible checks (missing ones are listed as failed). */
export function scoreRun(plan: LabPlan, expected: ExpectedCheck[], run: NotebookRunResult, submittedIds: Set<string>, visible: CheckKey[] = []): Pick<StudentGrade, "status" | "reason" | "total" | "max" | "exercises" | "visibleChecks" | "exerciseCells"> {
  const roleOf = new Map(run.cells.map((c) => [c.id, c.role]));
  const hiddenIds = new Set(plan.hiddenChecks.map((h) => h.id));
  const observed = new Map(withOccurrences(run.cells.filter((c) => hiddenIds.has(c.id))).map((o) => [keyString({ cell: o.cell.id, name: o.name, occurrence: o.occurrence }), o]));
  const hiddenStatus = new Map(run.cells.filter((c) => hiddenIds.has(c.id)).map((c) => [c.id, c]));
  const exercises = plan.exercises.map(({ exercise }): ExerciseScore => {
    const checks = expected.filter((e) => e.exercise === exercise.id).map((e): CheckScore => {
      const seen = observed.get(keyString(e));
      const cell = hiddenStatus.get(e.cell);
      const detail = seen ? seen.message : `did not run: the hidden cell ${cell ? `ended "${cell.status}"${cell.error ? ` (${cell.error.message.split("\n")[0]})` : ""}` : "did not run"}`;
      return { cell: e.cell, name: e.name, passed: seen?.passed === true, points: e.points, hint: e.hint, detail };
    });
    const total = checks.reduce((sum, c) => sum + c.points, 0);
    const passed = checks.filter((c) => c.passed).reduce((sum, c) => sum + c.points, 0);
    const max = exercise.meta.points ?? total;
    return { id: exercise.id, max, earned: total > 0 ? round2((max * passed) / total) : 0, submitted: submittedIds.has(exercise.id), checks };
  });
  const firstExercise = run.cells.find((c) => c.role === "exercise")?.index ?? Infinity;
  const instructorBroke = run.cells.find((c) => c.index < firstExercise && c.role !== "teardown" && c.status !== "passed" && !(c.status === "skipped" && c.skipReason?.startsWith("needs ")));
  const visibleCells = run.cells.filter((c) => roleOf.get(c.id) === "check");
  const reported = new Set(checkKeys(visibleCells).map(keyString));
  const statusOf = new Map(run.cells.map((c) => [c.id, c.status]));
  const visibleChecks = [
    ...visibleCells.flatMap((c) => c.checks.map((k) => ({ cell: c.id, name: k.name, passed: k.passed, message: k.message }))),
    // A check the lab's cell reports in the reference and not here is missing, not quietly gone (a replaced display hook).
    ...visible.filter((k) => !reported.has(keyString(k))).map((k) => ({ cell: k.cell, name: k.name, passed: false, message: `missing: it reported nothing (its cell ${statusOf.get(k.cell) ?? "did not run"})` })),
  ];
  const exerciseCells = run.cells.filter((c) => c.role === "exercise").map((c) => ({ id: c.id, status: c.status, ...(c.error ? { error: `${c.error.name}: ${c.error.message}`.slice(0, 2000) } : {}) }));
  const base = { total: round2(exercises.reduce((s, e) => s + e.earned, 0)), max: exercises.reduce((s, e) => s + e.max, 0), exercises, visibleChecks, exerciseCells };
  if (run.infrastructureError) return { ...base, status: "error", reason: `the run could not start: ${run.infrastructureError}` };
  if (instructorBroke) {
    return { ...base, status: "error", reason: `the lab's cell "${instructorBroke.id}" ended "${instructorBroke.status}" before any student code ran (${instructorBroke.error?.message.split("\n")[0] ?? instructorBroke.skipReason ?? "no detail"}): grade this one again` };
  }
  return { ...base, status: "graded" };
}

/** A submission that could not be graded at all: every exercise 0. */
export function zeroGrade(plan: LabPlan, expected: ExpectedCheck[]): Pick<StudentGrade, "total" | "max" | "exercises" | "visibleChecks" | "exerciseCells"> {
  const exercises = plan.exercises.map(({ exercise }): ExerciseScore => {
    const checks = expected.filter((e) => e.exercise === exercise.id).map((e) => ({ cell: e.cell, name: e.name, passed: false, points: e.points, hint: e.hint, detail: "not run: the submission was rejected" }));
    return { id: exercise.id, max: exercise.meta.points ?? checks.reduce((s, c) => s + c.points, 0), earned: 0, submitted: false, checks };
  });
  return { total: 0, max: exercises.reduce((s, e) => s + e.max, 0), exercises, visibleChecks: [], exerciseCells: [] };
}
