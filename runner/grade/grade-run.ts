// One run of a lab for grading, on a fresh cluster of its own: the reference (the instructor's notebook,
// solutions and all) or a submission's graded notebook, built in memory. Hidden checks run last, in a
// process the student's code never ran in (run/grading-policy.ts), and the student's cells in a sandbox.
import { dirname, resolve } from "node:path";
import type { Backend } from "../backend/types.ts";
import { LabbookError } from "../errors.ts";
import type { NotebookRunResult } from "../notebook/results.ts";
import { gradingPolicy } from "../run/grading-policy.ts";
import { infrastructureErrorResult } from "../run/infrastructure-error.ts";
import { runNotebook } from "../run/notebook-run.ts";
import { gradedNotebook } from "./graded-notebook.ts";
import type { LabPlan } from "./lab-plan.ts";
import type { Submission } from "./submission.ts";

export interface GradeRunOptions {
  backend: Backend;
  /** Per-cell limit for the student's cells, in seconds; the lab's cells keep their own (default 300 s). */
  timeoutS: number;
  seed?: string;
  onAbortHandle?: (abort: () => Promise<void>) => void;
  /** What the nodes must not see: the output, the lab's folder, the submissions' folders. */
  hidePaths?: string[];
  /** Where the notebooks run (lab-files.ts stageLabFolder): the lab's helpers, not its solutions. Default: the lab's folder. */
  labFolder?: string;
}

export interface GradeTask {
  /** Where the executed notebook goes. */
  outDir: string;
  /** None for a reference run. */
  submission?: Submission;
  /** The run's seed (the student's variant, grade/variants.ts); default: the options' seed. */
  seed?: string;
}

/** For the lab's own cells without a timeout of their own, as `labbook run` does. */
const LAB_CELL_TIMEOUT_S = 300;

/** A cluster or kernel that would not start is the machine's hiccup, not the student's: one more try. */
export async function gradeRun(plan: LabPlan, task: GradeTask, index: number, options: GradeRunOptions): Promise<NotebookRunResult> {
  const first = await gradeRunOnce(plan, task, index, options);
  return first.infrastructureError ? gradeRunOnce(plan, task, index, options) : first;
}

async function gradeRunOnce(plan: LabPlan, task: GradeTask, index: number, options: GradeRunOptions): Promise<NotebookRunResult> {
  // The lab's name for the executed notebook, whoever's work it ran.
  const path = resolve(plan.path);
  try {
    const notebook = task.submission ? gradedNotebook(plan, task.submission, options.timeoutS) : plan.notebook;
    return await runNotebook(notebook, path, {
      backend: options.backend,
      timeoutS: LAB_CELL_TIMEOUT_S,
      keepGoing: true, // hidden checks run whatever the student's cells did
      outDir: task.outDir,
      reporter: {},
      clusterName: `grade${process.pid}-${index}`,
      policy: gradingPolicy,
      // The lab's files, for students' cells and hidden checks alike: the lab's own helpers resolve there.
      cwd: options.labFolder ?? dirname(path),
      // A student's cells run as nobody, seeing only their cluster's LAN (kernel/sandbox.ts).
      sandbox: true,
      // A student's node commands must not read the gradebook, the instructor's notebook or classmates' work.
      ...(options.hidePaths ? { hidePaths: options.hidePaths } : {}),
      ...((task.seed ?? options.seed) === undefined ? {} : { seed: (task.seed ?? options.seed)! }),
      ...(options.onAbortHandle ? { onAbortHandle: options.onAbortHandle } : {}),
    });
  } catch (error) {
    // One submission's trouble, even a bug of ours, is that submission's grading error, not the batch's end.
    const message = error instanceof LabbookError ? error.message : `internal error: ${(error as Error).stack ?? String(error)}`;
    return infrastructureErrorResult(path, options.backend.name, message);
  }
}
