// labbook grade at class scale (issue 6): lab 02, 50 copies of a correct submission and 50 mixed ones
// (every fixture of test/grade, round robin), graded with the default --jobs; and, in the same run,
// a slice with --jobs 1 for the speed-up; and the time per-student variants add (issue 19): the same class
// against the lab declaring 4 variants (one reference run per variant in use); and the CPU per submission with the
// warm kernel and without (issue 20). Target: >= 50 per minute on 2 cores.
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetnsBackend } from "../runner/backend/netns/driver.ts";
import { defaultJobs, gradeBatch } from "../runner/grade/grade-batch.ts";
import { planLab } from "../runner/grade/lab-plan.ts";
import { initCourse } from "../runner/course/init.ts";
import { silentProgress } from "../runner/grade/progress.ts";
import { FIXTURES, LAB_02, writeSubmissions } from "../test/grade/submissions.ts";
import { withPeakMemory } from "../test/helpers/memory.ts";
import type { Figure } from "./cluster.bench.ts";

/** Issue 20's target (it was 20 in issue 6). */
const TARGET_PER_MINUTE = 50;

const scratch: string[] = [];
function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

/** `count` submissions in a new directory, cycling through `sources`. */
function classOf(sources: string[], count: number): string {
  const dir = scratchDir("labbook-bench-class-");
  for (let i = 0; i < count; i++) copyFileSync(sources[i % sources.length]!, join(dir, `student-${String(i + 1).padStart(3, "0")}.ipynb`));
  return dir;
}

/** CPU seconds the whole machine has spent (kernels and nodes are processes of their own), from /proc/stat. */
function machineCpuSeconds(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) / 100; // USER_HZ
}

async function grade(dir: string, jobs: number, lab = LAB_02): Promise<{ perMinute: number; ms: number; count: number; cpuPerSubmission: number }> {
  const cpuBefore = machineCpuSeconds();
  const started = performance.now();
  const { book } = await gradeBatch(planLab(lab), [dir], { backend: new NetnsBackend(), jobs, timeoutS: 10, outDir: scratchDir("labbook-bench-grades-"), progress: silentProgress });
  const ms = performance.now() - started;
  const errors = book.students.filter((s) => s.status === "error");
  if (errors.length) throw new Error(`bench: ${errors.length} submissions could not be graded (${errors[0]!.reason}): the rate would mean nothing`);
  return { perMinute: book.students.length / (ms / 60_000), ms, count: book.students.length, cpuPerSubmission: (machineCpuSeconds() - cpuBefore) / book.students.length };
}

/** Lab 02 in a course folder of its own, offering `count` variants, with a course secret. */
function labWithVariants(count: number): string {
  const course = scratchDir("labbook-bench-course-");
  initCourse(course, { lab: "unused" });
  rmSync(join(course, "unused"), { recursive: true, force: true });
  const dir = join(course, "02-cross-host-routes");
  cpSync(join(LAB_02, ".."), dir, { recursive: true });
  const path = join(dir, "02-cross-host-routes.ipynb");
  const notebook = JSON.parse(readFileSync(path, "utf8")) as { metadata: { labbook?: Record<string, unknown> } };
  notebook.metadata.labbook = { ...notebook.metadata.labbook, variants: count };
  writeFileSync(path, JSON.stringify(notebook));
  writeFileSync(join(course, "labbook.yaml"), 'secret: "the bench course secret"\n');
  return path;
}

export async function benchGrade(correctCount: number, mixedCount: number, serialCount: number, variantCount = serialCount): Promise<Figure[]> {
  try {
    return await benchGradeIn(scratchDir("labbook-bench-fixtures-"), correctCount, mixedCount, serialCount, variantCount);
  } finally {
    for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

async function benchGradeIn(fixtures: string, correctCount: number, mixedCount: number, serialCount: number, variantCount: number): Promise<Figure[]> {
  writeSubmissions(fixtures);
  const correct = [join(fixtures, "correct.ipynb")];
  const mixed = FIXTURES.map((f) => join(fixtures, `${f.name}.ipynb`));
  const jobs = defaultJobs();
  const { result: parallelCorrect, peakMb, baseMb } = await withPeakMemory(() => grade(classOf(correct, correctCount), jobs));
  const parallelMixed = await grade(classOf(mixed, mixedCount), jobs);
  const serial = await grade(classOf(correct, serialCount), 1);
  // The same, with kernels started the usual way: what the warm kernel saves per submission.
  process.env.LABBOOK_KERNEL_SNAPSHOT = "0";
  const serialCold = await grade(classOf(correct, serialCount), 1).finally(() => delete process.env.LABBOOK_KERNEL_SNAPSHOT);
  // Variants: the same class of correct submissions, against lab 02 declaring 4 variants in a course with a secret.
  // Lab 02 does not change with its seed, so the difference is what variants cost: a reference run per variant in use.
  const variantLab = labWithVariants(4);
  const withVariants = await grade(classOf(correct, variantCount), jobs, variantLab);
  const without = await grade(classOf(correct, variantCount), jobs);
  const rate = (name: string, r: { perMinute: number; count: number; ms: number }, target?: boolean): Figure => ({
    name: `${name}: ${r.count} in ${(r.ms / 1000).toFixed(0)} s, submissions per minute`,
    medianMs: r.perMinute,
    p90Ms: r.perMinute,
    runs: 1,
    unit: "/min",
    ...(target ? { target: `>= ${TARGET_PER_MINUTE} per minute on 2 cores`, met: r.perMinute >= TARGET_PER_MINUTE } : {}),
  });
  return [
    rate(`grade lab 02, correct, --jobs ${jobs} (default)`, parallelCorrect, true),
    rate(`grade lab 02, mixed, --jobs ${jobs} (default)`, parallelMixed, true),
    { name: `grade lab 02, correct, --jobs ${jobs}: peak memory used on the machine (${baseMb} MB before)`, medianMs: peakMb, p90Ms: peakMb, runs: 1, unit: "MB" },
    rate("grade lab 02, correct, --jobs 1", serial),
    { name: "CPU per submission (the whole machine), --jobs 1, warm kernels", medianMs: serial.cpuPerSubmission * 1000, p90Ms: serial.cpuPerSubmission * 1000, runs: 1 },
    { name: "CPU per submission, --jobs 1, kernels without the snapshot (LABBOOK_KERNEL_SNAPSHOT=0)", medianMs: serialCold.cpuPerSubmission * 1000, p90Ms: serialCold.cpuPerSubmission * 1000, runs: 1 },
    rate("grade lab 02, correct, --jobs 1, kernels without the snapshot", serialCold),
    { name: `grade speed-up, --jobs ${jobs} over --jobs 1 (correct submissions)`, medianMs: parallelCorrect.perMinute / serial.perMinute, p90Ms: parallelCorrect.perMinute / serial.perMinute, runs: 1, unit: "x" },
    rate(`grade lab 02 with 4 variants (a reference per variant in use), ${variantCount} correct`, withVariants),
    rate(`grade lab 02 without variants, the same ${variantCount}`, without),
    { name: "time variants add: the same class with 4 variants, less without", medianMs: withVariants.ms - without.ms, p90Ms: withVariants.ms - without.ms, runs: 1 },
  ];
}
