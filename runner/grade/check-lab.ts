// `labbook check-lab`: what an instructor runs before assigning a lab. It validates the lab as `assign` and
// `grade` do, runs it as grading does (the reference: the solutions, hidden checks in their own process), and
// runs the negative control: the exercises as handed out (solutions emptied), every hidden check of which must
// fail, or that check cannot tell work from none. It warns about patterns that grade wrongly (docs/grading.md).
import { rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { NotebookError } from "../notebook/read.ts";
import type { NotebookRunResult } from "../notebook/results.ts";
import { sourceText } from "../notebook/types.ts";
import { ensureSdkForNotebooks } from "../jupyter/sdk-link.ts";
import { inPool } from "../run/pool.ts";
import { gradeRun, type GradeRunOptions } from "./grade-run.ts";
import { stageLabFolder } from "./lab-files.ts";
import { labId, type LabPlan, type PlannedCell } from "./lab-plan.ts";
import { expectedChecks, scoreRun, type ExpectedCheck } from "./score.ts";
import type { Submission } from "./submission.ts";

export interface LabCheck {
  lab: string;
  /** Each a reason the lab would grade wrongly: check-lab fails. */
  problems: string[];
  /** Patterns that often grade wrongly; the instructor decides. */
  warnings: string[];
  reference?: { durationMs: number; checks: number; executedNotebook: string };
  negative?: { durationMs: number; failing: number; passing: string[]; executedNotebook: string };
}

/** Code beyond comments and blank lines. */
const doesSomething = (source: string) => source.split("\n").some((line) => line.trim() !== "" && !line.trim().startsWith("//"));

/** Commands and SDK calls that ask a server for an answer, which a student root in the cluster can stand in for. */
const ASKS_A_SERVER = /\b(curl|wget|ncat|nc|dig|nslookup|host|etcdctl|kubectl|http:\/\/|https:\/\/)\b|\bhttp:\s*["'`]|\breaches\([^)]*\bport\b/;

function teardownWarnings(plan: LabPlan, teardown: PlannedCell[]): string[] {
  const lastCode = plan.notebook.cells.filter((c) => c.cell_type === "code").at(-1);
  return teardown.filter((t) => doesSomething(sourceText(t.cell.source))).map((t) =>
    `teardown "${t.id}" changes the cluster. labbook runs it last, after the hidden checks, in run, check-lab and grade alike; ` +
      `in Jupyter a student runs it where it stands${t.cell === lastCode ? "" : " (it is not the notebook's last code cell)"}, and may then check their work against a cluster it undid. ` +
      "Let it only remove what the lab made, and keep it last.",
  );
}

function serverWarnings(plan: LabPlan): string[] {
  return plan.hiddenChecks.filter((h) => ASKS_A_SERVER.test(sourceText(h.cell.source))).map((h) => {
    const asks = ASKS_A_SERVER.exec(sourceText(h.cell.source))![0];
    return (
      `hidden check "${h.id}" asks a server (${asks.trim()}): a student is root in the cluster and can replace that server with one that answers as expected. ` +
      "Restart the server in a grader-setup cell, and combine its answer with evidence from the wire (capture) or the process behind the port (docs/grading.md, \"Servers a student controls\")."
    );
  });
}

/** A visible check right after an exercise, failing with the exercise undone: in Jupyter, Run All stops there. */
function checkAfterExerciseWarnings(plan: LabPlan, negative: NotebookRunResult): string[] {
  const solutions = new Set(plan.exercises.map((e) => e.solution.cell));
  const code = plan.notebook.cells.filter((c) => c.cell_type === "code" && !solutions.has(c));
  const byCell = new Map(negative.cells.map((c) => [c.index, c]));
  return plan.exercises.flatMap(({ exercise }) => {
    const next = code[code.indexOf(exercise.cell) + 1];
    const result = next ? byCell.get(plan.notebook.cells.indexOf(next)) : undefined;
    if (!result || result.role !== "check" || result.status !== "failed") return [];
    return [
      `check cell "${result.id}" comes right after exercise "${exercise.id}" and fails until it is done: in Jupyter, Run All stops there for a student ` +
        "who is not done, and hides the result of every check after it. Make it part of the hidden checks, or put it where the student's work is complete.",
    ];
  });
}

/** The exercises exactly as `assign` hands them out: what a student who did nothing hands in. */
function untouched(plan: LabPlan): Submission {
  return {
    path: `${plan.path} (negative control)`,
    student: "negative-control",
    answers: new Map(plan.exercises.map((e) => [e.exercise.id, { source: sourceText(e.exercise.cell.source), added: [] }])),
    notes: [],
    suspicious: [],
  };
}

export async function checkLab(plan: LabPlan, options: GradeRunOptions & { outDir: string; onProgress?: (message: string) => void }): Promise<LabCheck> {
  const result: LabCheck = { lab: labId(plan), problems: [], warnings: [] };
  const teardown = plan.notebook.cells.flatMap((cell) => {
    const planned = cell.cell_type === "code" ? (cell.metadata.labbook as { role?: string; id?: string } | undefined) : undefined;
    return planned?.role === "teardown" ? [{ cell, id: planned.id ?? cell.id, meta: { role: "teardown", requires: [] } } as PlannedCell] : [];
  });
  result.warnings.push(...teardownWarnings(plan, teardown), ...serverWarnings(plan));

  ensureSdkForNotebooks();
  const outDir = resolve(options.outDir);
  const labFolder = stageLabFolder(plan.path);
  let runs: NotebookRunResult[];
  try {
    const tasks = [{ outDir: join(outDir, "reference") }, { outDir: join(outDir, "negative-control"), submission: untouched(plan) }];
    options.onProgress?.("running the solution and the negative control (the exercises as handed out), each on a fresh cluster, as grading does");
    const hidePaths = [outDir, dirname(resolve(plan.path))];
    runs = await inPool(tasks, 2, (task, index) => gradeRun(plan, task, index, { ...options, hidePaths, labFolder }));
  } finally {
    rmSync(labFolder, { recursive: true, force: true });
  }
  const [reference, negative] = runs as [NotebookRunResult, NotebookRunResult];

  let expected: ExpectedCheck[] | undefined;
  try {
    expected = expectedChecks(plan, reference);
    result.reference = { durationMs: reference.durationMs, checks: expected.length, executedNotebook: reference.executedNotebook };
  } catch (error) {
    if (!(error instanceof NotebookError)) throw error;
    result.problems.push(error.message);
  }
  if (negative.infrastructureError) result.problems.push(`the negative control could not run: ${negative.infrastructureError}`);
  else if (expected) {
    const scored = scoreRun(plan, expected, negative, new Set(plan.exercises.map((e) => e.exercise.id)));
    const checks = scored.exercises.flatMap((e) => e.checks);
    const passing = checks.filter((c) => c.passed).map((c) => `"${c.name}" (${c.cell})`);
    result.negative = { durationMs: negative.durationMs, failing: checks.length - passing.length, passing, executedNotebook: negative.executedNotebook };
    for (const check of passing) result.problems.push(`hidden check ${check} passes with the exercises left as handed out: it cannot tell a student's work from none`);
    result.warnings.push(...checkAfterExerciseWarnings(plan, negative));
  }
  return result;
}
