// `labbook grade`: every submission on a fresh cluster of its own, `jobs` at once, hidden checks in a
// kernel the student's code never ran in, and one reference run of the instructor's solution that says
// what a full score is. Writes the gradebook, JUnit, and per student the executed notebook and feedback.
import { existsSync, rmSync } from "node:fs";
import { availableParallelism, freemem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { LabbookError } from "../errors.ts";
import { ensureSdkForNotebooks } from "../jupyter/sdk-link.ts";
import type { NotebookRunResult } from "../notebook/results.ts";
import { inPool, poolSize } from "../run/pool.ts";
import { expandNotebookPaths } from "../run/run-notebooks.ts";
import { notebookTitle } from "../run/titles.ts";
import { labVersion } from "./assign.ts";
import { loadLayers } from "./final-scores.ts";
import { GRADEBOOK_JSON, readGradebook, sortStudents, type Gradebook } from "./gradebook.ts";
import { unmatchedWarnings, writeGradebookFiles } from "./gradebook-files.ts";
import { gradeRun, type GradeRunOptions, type GradeTask } from "./grade-run.ts";
import { stageLabFolder } from "./lab-files.ts";
import { hiddenCheckVersions, labId, type LabPlan } from "./lab-plan.ts";
import type { GradeProgress } from "./progress.ts";
import { expectedChecks, expectedVisibleChecks, scoreRun, zeroGrade, type CheckKey, type ExpectedCheck, type StudentGrade } from "./score.ts";
import { runSuspicions } from "./suspicious.ts";
import { labVariants } from "../notebook/variants.ts";
import { variantKey } from "./variants.ts";
import { findCourseFile } from "../course/course-file.ts";
import { disambiguateStudents, readSubmission, type Submission } from "./submission.ts";
import { prepareWarmKernels } from "../kernel/warm-up.ts";

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
  /** Regrade only these students (--student), keeping every other grade of the gradebook in outDir. */
  only?: string[];
  /** Regrade only submissions whose file, or whose hidden checks, changed since the gradebook in outDir (--incremental). */
  incremental?: boolean;
  /** Where overrides and the course file are, when not in their usual places (final-scores.ts loadLayers). */
  layers?: { overridesFile?: string; courseFile?: string };
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

export async function gradeBatch(plan: LabPlan, paths: string[], options: GradeOptions): Promise<{ book: Gradebook; written: string[]; warnings: string[] }> {
  const started = Date.now();
  ensureSdkForNotebooks(); // or every submission would fail its first import, and look like the student's fault
  prepareWarmKernels((message) => process.stderr.write(`labbook: ${message}\n`));
  const all = submissionPaths(paths).map((path) => readSubmission(path, plan));
  disambiguateStudents(all); // over the whole class, so shards agree on ids
  const submissions = shardOf(all, options.shard);
  const lab = labId(plan);
  const outDir = resolve(options.outDir);
  const { toGrade, carried, previous } = whatToGrade(plan, submissions, outDir, options);
  const { seedFor, warning } = variantSeeds(plan, lab, options);
  const graded = toGrade.filter((s) => !s.rejected).map((submission) => ({ outDir: join(outDir, "students", submission.student), submission, ...seedOf(seedFor(submission.student)) }));
  // One reference per variant in use (one in all, for a lab without variants).
  const variants = [...new Set(graded.map((t) => t.seed))];
  const references = (variants.length ? variants : [seedFor(undefined)]).map((seed) => ({ outDir: join(outDir, "reference", ...(seed !== undefined && seed !== options.seed ? [seed] : [])), ...seedOf(seed) }));
  const tasks: GradeTask[] = [...references, ...graded];
  const shardLabel = options.shard ? `${options.shard.index}/${options.shard.count}` : undefined;
  const jobs = poolSize(options.jobs, tasks.length);
  options.progress.start({ lab, submissions: toGrade.length, jobs, references: references.length, ...(shardLabel ? { shard: shardLabel } : {}), ...(carried.length ? { kept: carried.length } : {}) });
  const hidePaths = [...new Set([outDir, dirname(resolve(plan.path)), ...all.map((s) => dirname(resolve(s.path)))])];
  let grades: StudentGrade[] = [];
  // Nothing run: the points per exercise are the gradebook's, which a reference run fixed.
  let exercises = previous?.exercises.map((e) => ({ id: e.id, max: e.points })) ?? zeroGrade(plan, []).exercises;
  if (toGrade.length > 0) {
    // The lab's own folder is hidden: its notebook and source hold the solutions. Runs get a copy of its helpers.
    const labFolder = stageLabFolder(plan.path);
    try {
      const result = await gradeTasks(plan, tasks, toGrade.filter((s) => s.rejected), { ...options, jobs, hidePaths, labFolder });
      grades = result.grades;
      exercises = zeroGrade(plan, result.expected).exercises;
    } finally {
      rmSync(labFolder, { recursive: true, force: true });
    }
  }
  const book: Gradebook = {
    lab,
    labVersion: labVersion(plan),
    exercises: exercises.map((e) => ({ id: e.id, points: e.max })),
    title: notebookTitle(plan.notebook, plan.path),
    labPath: resolve(plan.path),
    ...(shardLabel ? { shard: shardLabel } : {}),
    gradedAt: new Date().toISOString(),
    students: sortStudents([...carried, ...grades]),
  };
  const layers = loadLayers(book, outDir, options.layers ?? {});
  const { written, book: recorded, unmatched } = writeGradebookFiles(outDir, book, layers);
  options.progress.finish({ durationMs: Date.now() - started });
  return { book: recorded, written, warnings: [...(warning ? [warning] : []), ...unmatchedWarnings(unmatched)] };
}

/**
 * Most of a class rejected is the instructor's error, not the students' (a renamed lab, the wrong notebook, the
 * wrong folder of submissions): what to tell them, naming the commonest reason; undefined when the batch looks sound.
 */
export function mostlyRejected(book: Gradebook): string | undefined {
  const rejected = book.students.filter((s) => s.status === "rejected");
  if (rejected.length === 0 || rejected.length * 2 <= book.students.length) return undefined;
  const reasons = new Map<string, number>();
  for (const s of rejected) reasons.set(s.reason ?? "", (reasons.get(s.reason ?? "") ?? 0) + 1);
  const [reason, count] = [...reasons].sort((a, b) => b[1] - a[1])[0]!;
  return (
    `${rejected.length} of ${book.students.length} submissions were rejected (the commonest reason, ${count} times: ${reason}). ` +
    `That is rarely the students' doing: check that the lab (id "${book.lab}") is the one they were assigned, and that the paths are their submissions. ` +
    `A lab keeps its id (metadata.labbook.id) when its file is renamed.`
  );
}

/**
 * Which submissions run, and which grades of the gradebook already in `outDir` stand: with --student only those
 * students run; with --incremental those whose file changed, whose hidden checks' versions changed, or whose
 * grading failed. Without either, all run.
 */
function whatToGrade(plan: LabPlan, submissions: Submission[], outDir: string, options: GradeOptions): { toGrade: Submission[]; carried: StudentGrade[]; previous?: Gradebook } {
  if (!options.only && !options.incremental) return { toGrade: submissions, carried: [] };
  const file = join(outDir, GRADEBOOK_JSON);
  if (!existsSync(file)) {
    if (options.only) throw new LabbookError(`--student: there is no gradebook in ${outDir} to regrade into; grade the class first (or give --out the folder it is in)`);
    return { toGrade: submissions, carried: [] };
  }
  const previous = readGradebook(file);
  if (previous.lab !== labId(plan)) throw new LabbookError(`${file} is the gradebook of lab "${previous.lab}", not "${labId(plan)}": give --out the folder of this lab's gradebook`);
  const before = new Map(previous.students.map((s) => [s.student, s]));
  if (options.only) {
    const known = new Set(submissions.map((s) => s.student));
    const unknown = options.only.filter((id) => !known.has(id));
    if (unknown.length) throw new LabbookError(`--student ${unknown.join(", ")}: no such submission among the ${submissions.length} given (students: ${[...known].slice(0, 20).join(", ")}${known.size > 20 ? ", ..." : ""})`);
  }
  const versions = hiddenCheckVersions(plan);
  const changed = (s: Submission) => {
    const grade = before.get(s.student);
    if (!grade || grade.status === "error" || grade.submissionDigest !== s.digest) return true;
    return JSON.stringify(grade.checkVersions ?? {}) !== JSON.stringify(versions);
  };
  const rerun = (s: Submission) => (options.only ? options.only.includes(s.student) || !before.has(s.student) : changed(s));
  return { toGrade: submissions.filter(rerun), carried: submissions.filter((s) => !rerun(s)).map((s) => before.get(s.student)!), previous };
}

const seedOf = (seed: string | undefined) => (seed === undefined ? {} : { seed });

/**
 * Each student's seed: --seed for everyone when given; else, for a lab that offers variants, the student's variant
 * key (grade/variants.ts) from the course file's secret; else none. A lab with variants and no secret is said.
 */
function variantSeeds(plan: LabPlan, lab: string, options: GradeOptions): { seedFor: (student: string | undefined) => string | undefined; warning?: string } {
  const count = labVariants(plan.notebook, plan.path);
  if (options.seed !== undefined || count === undefined) return { seedFor: () => options.seed };
  const secret = findCourseFile(plan.path, options.layers?.courseFile)?.secret;
  if (!secret) return { seedFor: () => undefined, warning: `${lab} offers ${count} variants, but no course file (labbook.yaml) with a secret was found: every student got the same one` };
  return { seedFor: (student) => (student === undefined ? undefined : variantKey(secret, lab, student, count)) };
}

/** What a grade records of the file and the checks it was graded with: deadlines and incremental regrades use them. */
function fileFacts(submission: Submission, checkVersions: Record<string, string>): Pick<StudentGrade, "submittedAt" | "submissionDigest" | "checkVersions"> {
  return { ...(submission.submittedAt ? { submittedAt: submission.submittedAt } : {}), ...(submission.digest ? { submissionDigest: submission.digest } : {}), checkVersions };
}

/** What a reference run (the instructor's solution, for one variant) says a full score is. */
interface Reference {
  expected: ExpectedCheck[];
  visible: CheckKey[];
  /** The lab's check names, hidden and visible: a student's cell reporting one is suspicious. */
  names: Set<string>;
}

/**
 * The reference runs go first, one per variant in use: what a full score is must be known before any submission
 * of that variant is scored. A reference that fails its own checks throws: no more runs start, and the batch ends.
 */
async function gradeTasks(plan: LabPlan, tasks: GradeTask[], rejected: Submission[], options: GradeOptions): Promise<{ grades: StudentGrade[]; expected: ExpectedCheck[] }> {
  const grades: StudentGrade[] = [];
  const checkVersions = hiddenCheckVersions(plan);
  const references = new Map<string, Reference>();
  const pending = new Map<string, Array<{ task: GradeTask; run: NotebookRunResult }>>();
  const variantOf = (task: GradeTask) => task.seed ?? "";
  const finish = (task: GradeTask, run: NotebookRunResult, reference: Reference) => {
    const submission = task.submission!;
    const scored = scoreRun(plan, reference.expected, run, new Set(submission.answers.keys()), reference.visible);
    const suspicious = [...submission.suspicious, ...runSuspicions(run, reference.names, reference.visible)];
    const grade: StudentGrade = {
      student: submission.student, file: submission.path, ...scored, notes: submission.notes, suspicious, durationMs: run.durationMs, executedNotebook: run.executedNotebook,
      ...fileFacts(submission, checkVersions), ...(task.seed === undefined ? {} : { variant: task.seed }),
    };
    grades.push(grade);
    options.progress.graded(grade);
  };
  let waiting = [...rejected]; // their (zero) scores list the checks of a reference
  await inPool(tasks, options.jobs, async (task, index) => {
    const run = await gradeRun(plan, task, index, options);
    const variant = variantOf(task);
    if (!task.submission) {
      const expected = expectedChecks(plan, run);
      const visible = expectedVisibleChecks(run);
      const reference = { expected, visible, names: new Set([...expected, ...visible].map((c) => c.name)) };
      references.set(variant, reference);
      options.progress.referenceDone({ durationMs: run.durationMs, checks: expected.length, ...(task.seed === undefined ? {} : { variant: task.seed }) });
      for (const submission of waiting) {
        const grade: StudentGrade = { student: submission.student, file: submission.path, status: "rejected", reason: submission.rejected!, ...zeroGrade(plan, expected), notes: submission.notes, suspicious: submission.suspicious, durationMs: 0, ...fileFacts(submission, checkVersions) };
        grades.push(grade);
        options.progress.graded(grade);
      }
      waiting = [];
      for (const done of pending.get(variant)?.splice(0) ?? []) finish(done.task, done.run, reference);
      return;
    }
    const reference = references.get(variant);
    if (reference) finish(task, run, reference);
    else pending.set(variant, [...(pending.get(variant) ?? []), { task, run }]);
  });
  return { grades, expected: [...references.values()][0]?.expected ?? [] };
}
