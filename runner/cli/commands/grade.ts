import { limitSupport } from "../../host/cgroups.ts";
import { kubernetesRequired, privilegedReason } from "../../notebook/privileged.ts";
import { loadTopology } from "../../topology/load.ts";
import { getBackend } from "../../backend/registry.ts";
import { UsageError } from "../../errors.ts";
import { defaultJobs, gradeBatch, mostlyRejected, type Shard } from "../../grade/grade-batch.ts";
import { kubernetesJobs } from "../../grade/kubernetes-jobs.ts";
import { planLab } from "../../grade/lab-plan.ts";
import { ConsoleGradeProgress } from "../../grade/progress.ts";
import { parseCommandArgs, positiveInteger } from "../args.ts";
import type { CliCommand } from "../command.ts";
import { withInterruptCleanup } from "../interrupt.ts";

export function parseShard(value: string | undefined): Shard | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(value);
  const [index, count] = match ? [Number(match[1]), Number(match[2])] : [0, 0];
  if (!match || count < 1 || index < 1 || index > count) throw new UsageError(`--shard must be i/n with 1 <= i <= n (e.g. 2/8), got "${value}"`);
  return { index, count };
}

export const grade: CliCommand = {
  usage: [
    "labbook grade <lab.ipynb> <submission.ipynb|dir>... [--jobs N] [--out DIR] [--shard i/n] [--timeout S] [--seed S] [--backend netns]",
    "              [--student ID]... [--incremental] [--overrides FILE] [--course FILE]",
    "  grades each submission on a fresh cluster of its own, N at once (default: what this machine can take);",
    "  the lab's hidden checks run last, in a fresh process the student's code never ran in.",
    "  writes to DIR (default grades/): gradebook.csv, gradebook.json, junit.xml, and per student",
    "  students/<id>/feedback.md, feedback.html and the executed notebook (the instructor's: it shows the hidden checks)",
    "  --shard i/n grades every n-th submission starting at the i-th (sorted by path); join with labbook gradebook merge",
    "  --student ID regrades that student only (repeatable), keeping every other grade of the gradebook in DIR;",
    "  --incremental regrades only submissions whose file, or whose hidden checks, changed since that gradebook.",
    "  Overrides (DIR/overrides.csv: student,target,points,comment) and the course file's deadlines (labbook.yaml,",
    "  found from the lab's folder up) are applied on top of the scores every time the gradebook is written.",
    "  --timeout S limits each of the student's cells (default 60 s): an endless loop is stopped, and the rest is graded",
    "  exit codes: 0 every submission scored (rejected ones score 0), 1 some could not be graded (grade them again),",
    "  2 bad input, or most submissions rejected (the wrong lab or the wrong folder, most likely)",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs("grade", argv, {
      jobs: { type: "string", short: "j" },
      out: { type: "string", short: "o" },
      shard: { type: "string" },
      timeout: { type: "string" },
      seed: { type: "string" },
      backend: { type: "string", short: "b" },
      student: { type: "string", multiple: true },
      incremental: { type: "boolean" },
      overrides: { type: "string" },
      course: { type: "string" },
    });
    if (positionals.length < 2) throw new UsageError(`usage: ${this.usage.split("\n")[0]}`);
    const [lab, ...submissions] = positionals as [string, ...string[]];
    const timeoutS = values.timeout === undefined ? 60 : Number(values.timeout);
    if (!(timeoutS > 0)) throw new UsageError(`--timeout must be a number of seconds, got "${values.timeout}"`);
    const shard = parseShard(values.shard);
    let jobs = positiveInteger("--jobs", values.jobs) ?? defaultJobs();
    const backend = getBackend(values.backend);
    // Grading needs a fresh cluster per submission: a student must not inherit another's state.
    if (backend.runsOn !== "fresh") throw new UsageError(`labbook grade: the ${backend.name} backend shares one cluster between runs; grade on the netns backend`);
    const limits = limitSupport();
    if (limits.problem) process.stderr.write(`labbook grade: warning: ${limits.problem}. A submission's fork bomb or memory hog can then slow or stall the whole batch (labbook doctor says more).\n`);
    const plan = planLab(lab);
    const privileged = privilegedReason(plan.notebook, lab);
    if (kubernetesRequired(plan.notebook, lab)) jobs = kubernetesJobs(jobs, loadTopology().nodes.length);
    if (privileged) {
      process.stderr.write(
        `labbook grade: warning: ${lab} asks for privileged nodes (${privileged}). Root in them is root of this machine, ` +
          `so a submission's node commands are not fenced in: grade it on a machine you can rebuild.\n`,
      );
    }
    const aborts = new Set<() => Promise<void>>();
    if (values.student && shard) throw new UsageError("--student regrades into a whole class's gradebook; it does not go with --shard");
    const { book, written, warnings } = await withInterruptCleanup(
      async () => {
        await Promise.all([...aborts].map((abort) => abort()));
      },
      () =>
        gradeBatch(plan, submissions, {
          backend, jobs, timeoutS, outDir: values.out ?? "grades", progress: new ConsoleGradeProgress(),
          ...(shard ? { shard } : {}), ...(values.seed === undefined ? {} : { seed: values.seed }), onAbortHandle: (a) => aborts.add(a),
          ...(values.student ? { only: values.student } : {}), ...(values.incremental ? { incremental: true } : {}),
          layers: { ...(values.overrides ? { overridesFile: values.overrides } : {}), ...(values.course ? { courseFile: values.course } : {}) },
        }),
    );
    process.stdout.write(`wrote ${written.filter((w) => !w.includes("/students/")).join(", ")} and feedback for ${book.students.length} student${book.students.length === 1 ? "" : "s"}\n`);
    for (const warning of warnings) process.stderr.write(`labbook grade: warning: ${warning}\n`);
    const instructorError = mostlyRejected(book);
    if (instructorError) {
      process.stderr.write(`labbook grade: ${instructorError}\n`);
      return 2;
    }
    return book.students.some((s) => s.status === "error") ? 1 : 0;
  },
};
