// `labbook grade`: every submission on a fresh cluster of its own, `jobs` at once, hidden checks in a
// kernel the student's code never ran in, and one reference run of the instructor's solution that says
// what a full score is. Writes the gradebook, JUnit, and per student the executed notebook and feedback.
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { availableParallelism, freemem } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import type { Backend } from "../backend/types.ts";
import { LabbookError } from "../errors.ts";
import { ensureSdkForNotebooks, REPO_ROOT } from "../jupyter/sdk-link.ts";
import { writeNotebook } from "../notebook/read.ts";
import { notebookTitle, runNotebook } from "../run/notebook-run.ts";
import type { NotebookRunResult } from "../notebook/results.ts";
import { expandNotebookPaths } from "../run/run-notebooks.ts";
import { ownedTempDir } from "../host/temp-dirs.ts";
import { labVersion } from "./assign.ts";
import { feedbackHtml, feedbackMarkdown } from "./feedback.ts";
import { gradedNotebook } from "./graded-notebook.ts";
import { GRADEBOOK_CSV, GRADEBOOK_JSON, gradebookCsv, sortStudents, type Gradebook } from "./gradebook.ts";
import { gradebookJunit } from "./gradebook-junit.ts";
import { labName, planLab, type LabPlan } from "./lab-plan.ts";
import type { GradeProgress } from "./progress.ts";
import { expectedChecks, scoreRun, zeroGrade, type ExpectedCheck, type StudentGrade } from "./score.ts";
import { disambiguateStudents, readSubmission, type Submission } from "./submission.ts";

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export interface GradeOptions {
  backend: Backend;
  jobs: number;
  outDir: string;
  /** Per-cell limit for the student's cells, in seconds; the lab's cells keep their own (default 300 s). */
  timeoutS: number;
  shard?: Shard;
  seed?: string;
  progress: GradeProgress;
  onAbortHandle?: (abort: () => Promise<void>) => void;
  /** Filled in by gradeBatch: what the nodes must not see (the output, the lab's folder, the submissions' folders). */
  hidePaths?: string[];
}

/** For the lab's own cells without a timeout of their own, as `labbook run` does. */
const LAB_CELL_TIMEOUT_S = 300;

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

interface Task {
  notebookPath: string;
  outDir: string;
  submission?: Submission;
}

export async function gradeBatch(labPath: string, paths: string[], options: GradeOptions): Promise<{ book: Gradebook; written: string[] }> {
  const started = Date.now();
  const plan = planLab(labPath);
  ensureSdkForNotebooks(); // or every submission would fail its first import, and look like the student's fault
  const all = submissionPaths(paths).map((path) => readSubmission(path, plan));
  disambiguateStudents(all); // over the whole class, so shards agree on ids
  const submissions = shardOf(all, options.shard);
  const lab = labName(plan);
  const outDir = resolve(options.outDir);
  // Graded notebooks are built in a scratch dir that names this process: after a kill -9,
  // `labbook down --all` removes it with the kernels' scratch dirs.
  const work = ownedTempDir("grade");
  mkdirSync(join(work, "node_modules"));
  options.onAbortHandle?.(async () => rmSync(work, { recursive: true, force: true }));
  // Graded notebooks import "labbook" from where they are, like the labs do from labs/.
  symlinkSync(REPO_ROOT, join(work, "node_modules", "labbook"));
  try {
    const tasks: Task[] = [{ notebookPath: resolve(labPath), outDir: join(outDir, "reference") }];
    for (const submission of submissions.filter((s) => !s.rejected)) {
      const dir = join(work, submission.student);
      mkdirSync(dir, { recursive: true });
      const notebookPath = join(dir, basename(plan.path));
      writeNotebook(notebookPath, gradedNotebook(plan, submission, options.timeoutS));
      tasks.push({ notebookPath, outDir: join(outDir, "students", submission.student), submission });
    }
    const shardLabel = options.shard ? `${options.shard.index}/${options.shard.count}` : undefined;
    const jobs = Math.max(1, Math.min(options.jobs, tasks.length));
    options.progress.start({ lab, submissions: submissions.length, jobs, ...(shardLabel ? { shard: shardLabel } : {}) });
    const hidePaths = [...new Set([outDir, dirname(resolve(labPath)), ...all.map((s) => dirname(resolve(s.path)))])];
    const { grades, expected } = await gradeTasks(plan, tasks, submissions.filter((s) => s.rejected), { ...options, jobs, hidePaths });
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
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function gradeTasks(plan: LabPlan, tasks: Task[], rejected: Submission[], options: GradeOptions): Promise<{ grades: StudentGrade[]; expected: ExpectedCheck[] }> {
  const grades: StudentGrade[] = [];
  let expected: ExpectedCheck[] | undefined;
  let failure: unknown;
  const pending: Array<{ task: Task; run: NotebookRunResult }> = [];
  const finish = (task: Task, run: NotebookRunResult) => {
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
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length && failure === undefined) {
      const index = next++;
      const task = tasks[index]!;
      const run = await runTask(task, index, options);
      if (!task.submission) {
        try {
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
        } catch (error) {
          failure = error;
        }
      } else if (expected) {
        finish(task, run);
      } else {
        pending.push({ task, run });
      }
    }
  };
  await Promise.all(Array.from({ length: options.jobs }, worker));
  if (failure !== undefined) throw failure;
  return { grades, expected: expected! };
}

/** A cluster or kernel that would not start is the machine's hiccup, not the student's: one more try. */
async function runTask(task: Task, index: number, options: GradeOptions): Promise<NotebookRunResult> {
  const first = await runTaskOnce(task, index, options);
  return first.infrastructureError ? runTaskOnce(task, index, options) : first;
}

async function runTaskOnce(task: Task, index: number, options: GradeOptions): Promise<NotebookRunResult> {
  try {
    return await runNotebook(task.notebookPath, {
      backend: options.backend,
      timeoutS: LAB_CELL_TIMEOUT_S,
      keepGoing: true, // hidden checks run whatever the student's cells did
      outDir: task.outDir,
      reporter: {},
      clusterName: `grade${process.pid}-${index}`,
      isolateHidden: true,
      // A student's cells run as nobody, seeing only their cluster's LAN (kernel/sandbox.ts).
      sandbox: true,
      // A student's node commands must not read the gradebook, the instructor's notebook or classmates' work.
      hidePaths: options.hidePaths,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(options.onAbortHandle ? { onAbortHandle: options.onAbortHandle } : {}),
    });
  } catch (error) {
    // One submission's trouble, even a bug of ours, is that submission's grading error, not the batch's end.
    const message = error instanceof LabbookError ? error.message : `internal error: ${(error as Error).stack ?? String(error)}`;
    return { notebook: task.notebookPath, executedNotebook: "", title: "", backend: options.backend.name, cluster: "", startedAt: new Date().toISOString(), durationMs: 0, passed: false, cells: [], infrastructureError: message };
  }
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
