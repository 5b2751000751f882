// labbook grade on a Kubernetes lab (issue 17): 20 submissions of lab 09 with the exercise solved as the
// instructor's solution solves it, graded with the default --jobs (which the machine's inotify room caps
// for Kubernetes clusters, as `labbook grade` caps it). Figures: submissions per minute, peak memory, and
// where a submission's time goes (the cluster's start against the cells). No target yet.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NetnsBackend } from "../runner/backend/netns/driver.ts";
import { studentNotebook } from "../runner/grade/assign.ts";
import { defaultJobs, gradeBatch } from "../runner/grade/grade-batch.ts";
import { kubernetesJobs } from "../runner/grade/kubernetes-jobs.ts";
import { planLab, type LabPlan } from "../runner/grade/lab-plan.ts";
import { silentProgress } from "../runner/grade/progress.ts";
import type { CodeCell } from "../runner/notebook/types.ts";
import { loadTopology } from "../runner/topology/load.ts";
import { withPeakMemory } from "../test/helpers/memory.ts";
import type { Figure } from "./cluster.bench.ts";
import { median } from "./stats.ts";

export const KUBERNETES_LAB = fileURLToPath(new URL("../labs/09-volumes/09-volumes.ipynb", import.meta.url));

/** The student's notebook with every exercise answered by the instructor's solution. */
function solvedSubmission(plan: LabPlan): string {
  const notebook = studentNotebook(plan);
  for (const { exercise, solution } of plan.exercises) {
    const cell = notebook.cells.find((c) => c.id === exercise.cell.id) as CodeCell;
    cell.source = solution.cell.source;
  }
  return JSON.stringify(notebook);
}

export async function benchGradeKubernetes(count: number): Promise<Figure[]> {
  const plan = planLab(KUBERNETES_LAB);
  const dir = mkdtempSync(join(tmpdir(), "labbook-bench-k8s-class-"));
  const out = mkdtempSync(join(tmpdir(), "labbook-bench-k8s-grades-"));
  try {
    const submission = solvedSubmission(plan);
    for (let i = 0; i < count; i++) writeFileSync(join(dir, `student-${String(i + 1).padStart(3, "0")}.ipynb`), submission);
    const jobs = kubernetesJobs(defaultJobs(), loadTopology().nodes.length);
    const started = performance.now();
    const { result, peakMb, baseMb } = await withPeakMemory(() => gradeBatch(plan, [dir], { backend: new NetnsBackend(), jobs, timeoutS: 120, outDir: out, progress: silentProgress }));
    const ms = performance.now() - started;
    const students = result.book.students;
    const errors = students.filter((s) => s.status === "error");
    if (errors.length) throw new Error(`bench: ${errors.length} submissions could not be graded (${errors[0]!.reason}): the rate would mean nothing`);
    const perMinute = students.length / (ms / 60_000);
    const runMs = students.map((s) => s.durationMs);
    return [
      { name: `grade lab 09 (Kubernetes), ${students.length} solved submissions, --jobs ${jobs} (default, capped by inotify room): submissions per minute`, medianMs: perMinute, p90Ms: perMinute, runs: 1, unit: "/min" },
      { name: `grade lab 09 (Kubernetes), --jobs ${jobs}: peak memory used on the machine (${baseMb} MB before)`, medianMs: peakMb, p90Ms: peakMb, runs: 1, unit: "MB" },
      { name: "grade lab 09 (Kubernetes): one submission's run (its cluster with Kubernetes, kernel, cells, hidden checks)", medianMs: median(runMs), p90Ms: Math.max(...runMs), runs: runMs.length },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
}
