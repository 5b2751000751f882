// `labbook grade`: every submission on a fresh cluster of its own, `jobs` at once, hidden checks in a
// kernel the student's code never ran in, and one reference run of the instructor's solution that says
// what a full score is. Writes the gradebook, JUnit, and per student the executed notebook and feedback.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, freemem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { ensureSdkForNotebooks } from "../jupyter/sdk-link.ts";
import type { NotebookRunResult } from "../notebook/results.ts";
import { inPool, poolSize } from "../run/pool.ts";
import { expandNotebookPaths } from "../run/run-notebooks.ts";
import { notebookTitle } from "../run/titles.ts";
import { labVersion } from "./assign.ts";
import { feedbackHtml, feedbackMarkdown } from "./feedback.ts";
import { GRADEBOOK_CSV, GRADEBOOK_JSON, gradebookCsv, sortStudents, type Gradebook } from "./gradebook.ts";
import { gradebookJunit } from "./gradebook-junit.ts";
import { gradeRun, type GradeRunOptions, type GradeTask } from "./grade-run.ts";
import { stageLabFolder } from "./lab-files.ts";
import { labName, type LabPlan } from "./lab-plan.ts";
import type { GradeProgress } from "./progress.ts";
import { expectedChecks, scoreRun, zeroGrade, type ExpectedCheck, type StudentGrade } from "./score.ts";
import { disambiguateStudents, readSubmission, type Submission } from "./submission.ts";

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** hidePaths is filled in by gradeBatch. */
export interface GradeOptions extends GradeRunOptions {
  jobs: number;
  outDir: string;
  shard?: Shard;
  progress: GradeProgress;
}

/** Measured: a submission's kernel and cluster peak near 300 MB together; leave room for the rest. */
const MEMORY_PER_JOB = 400 * 1024 * 1024;

/**
 * What this machine can take: three per core, within free memory. A submission's run waits much of the
 * time (checks retrying, endless loops running into their timeout), so more runs than cores keep the CPU
 * busy; measured on 2 cores with 22 mixed submissions: 15.5 per minute with 4 jobs, 17.3 with 6, 17.7 with 8.
 */
export function defaultJobs(): number {
  return Math.max(1, Math.min(3 * availableParallelism(), Math.floor(freemem() / MEMORY_PER_JOB)));
}

/** Submissions named on the command line, directories expanded, in path order: the order shards are cut from. */
export function submissionPaths(paths: string[]): string[] {
  const expanded = paths.flatMap((path) => (path.endsWith(".ipynb") ? [path] : expandNotebookPaths([path])));
  return [...new Set(expanded.map((p) => resolve(p)))].sort();
}

/** A deterministic slice: every n-th submission of the sorted list, starting at the i-th. */
export function shardOf<T>(items: T[], shard: Shard | undefined): T[] {
  return shard ? items.filter((_, index) => index % shard.count === shard.index - 1) : items;
}

export async function gradeBatch(plan: LabPlan, paths: string[], options: GradeOptions): Promise<{ book: Gradebook; written: string[] }> {
  const started = Date.now();
  ensureSdkForNotebooks(); // or every submission would fail its first import, and look like the student's fault
  const all = submissionPaths(paths).map((path) => readSubmission(path, plan));
  disambiguateStudents(all); // over the whole class, so shards agree on ids
  const submissions = shardOf(all, options.shard);
  const lab = labName(plan);
  const outDir = resolve(options.outDir);
  const tasks: GradeTask[] = [
    { outDir: join(outDir, "reference") },
    ...submissions.filter((s) => !s.rejected).map((submission) => ({ outDir: join(outDir, "students", submission.student), submission })),
  ];
  const shardLabel = options.shard ? `${options.shard.index}/${options.shard.count}` : undefined;
  const jobs = poolSize(options.jobs, tasks.length);
  options.progress.start({ lab, submissions: submissions.length, jobs, ...(shardLabel ? { shard: shardLabel } : {}) });
  const hidePaths = [...new Set([outDir, dirname(resolve(plan.path)), ...all.map((s) => dirname(resolve(s.path)))])];
  // The lab's own folder is hidden: its notebook and source hold the solutions. Runs get a copy of its helpers.
  const labFolder = stageLabFolder(plan.path);
  let graded: Awaited<ReturnType<typeof gradeTasks>>;
  try {
    graded = await gradeTasks(plan, tasks, submissions.filter((s) => s.rejected), { ...options, jobs, hidePaths, labFolder });
  } finally {
    rmSync(labFolder, { recursive: true, force: true });
  }
  const { grades, expected } = graded;
  const book: Gradebook = {
    lab,
    labVersion: labVersion(plan),
    exercises: zeroGrade(plan, expected).exercises.map((e) => ({ id: e.id, points: e.max })),
    ...(shardLabel ? { shard: shardLabel } : {}),
    gradedAt: new Date().toISOString(),
    students: sortStudents(grades),
  };
  const title = notebookTitle(plan.notebook, plan.path);
  const written = writeGradebook(outDir, book, title);
  options.progress.finish({ durationMs: Date.now() - started });
  return { book, written };
}

/** The reference run goes first: what a full score is must be known before any submission is scored. */
async function gradeTasks(plan: LabPlan, tasks: GradeTask[], rejected: Submission[], options: GradeOptions): Promise<{ grades: StudentGrade[]; expected: ExpectedCheck[] }> {
  const grades: StudentGrade[] = [];
  let expected: ExpectedCheck[] | undefined;
  const pending: Array<{ task: GradeTask; run: NotebookRunResult }> = [];
  const finish = (task: GradeTask, run: NotebookRunResult) => {
    const submission = task.submission!;
    const scored = scoreRun(plan, expected!, run, new Set(submission.answers.keys()));
    const grade: StudentGrade = { student: submission.student, file: submission.path, ...scored, notes: submission.notes, durationMs: run.durationMs, executedNotebook: run.executedNotebook };
    grades.push(grade);
    options.progress.graded(grade);
  };
  for (const submission of rejected) {
    const grade: StudentGrade = { student: submission.student, file: submission.path, status: "rejected", reason: submission.rejected!, ...zeroGrade(plan, []), notes: submission.notes, durationMs: 0 };
    grades.push(grade);
  }
  // A reference that fails its own checks throws: no more runs start, and the batch ends with that error.
  await inPool(tasks, options.jobs, async (task, index) => {
    const run = await gradeRun(plan, task, index, options);
    if (!task.submission) {
      expected = expectedChecks(plan, run);
      options.progress.referenceDone({ durationMs: run.durationMs, checks: expected.length });
      // Rejected ones first: their (zero) scores need the reference's checks too.
      for (const grade of grades.splice(0)) {
        const zero = zeroGrade(plan, expected);
        const full = { ...grade, ...zero };
        grades.push(full);
        options.progress.graded(full);
      }
      for (const done of pending.splice(0)) finish(done.task, done.run);
    } else if (expected) {
      finish(task, run);
    } else {
      pending.push({ task, run });
    }
  });
  return { grades, expected: expected! };
}

function writeGradebook(outDir: string, book: Gradebook, title: string): string[] {
  const written: string[] = [];
  const write = (path: string, text: string) => {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
    written.push(path);
  };
  write(join(outDir, GRADEBOOK_JSON), `${JSON.stringify(book, null, 1)}\n`);
  write(join(outDir, GRADEBOOK_CSV), gradebookCsv(book));
  write(join(outDir, "junit.xml"), gradebookJunit(book));
  for (const grade of book.students) {
    const markdown = feedbackMarkdown(`${title}: feedback`, grade);
    write(join(outDir, "students", grade.student, "feedback.md"), markdown);
    write(join(outDir, "students", grade.student, "feedback.html"), feedbackHtml(`${title}: feedback for ${grade.student}`, markdown));
  }
  return written;
}
