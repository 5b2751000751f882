// Runs one notebook headless on a cluster of its own (or the shared one), cell by cell, as its policy
// says. The notebook comes read and validated (notebook/read.ts readNotebook, or built by grading).
import { mkdirSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Backend } from "../backend/types.ts";
import { ownedTempDir } from "../host/temp-dirs.ts";
import { kubernetesRequest, privilegedReason } from "../notebook/privileged.ts";
import type { NotebookRunResult } from "../notebook/results.ts";
import { GRADING_ONLY } from "../notebook/roles.ts";
import type { Notebook } from "../notebook/types.ts";
import type { Reporter } from "../report/types.ts";
import { CLUSTER_VARIABLE } from "../sdk/current-cluster.ts";
import { GRADER_NOTES_VARIABLE } from "../sdk/grader-notes.ts";
import { SEED_VARIABLE } from "../sdk/seed.ts";
import { TIME_SCALE_VARIABLE } from "../sdk/time-scale.ts";
import { runCells, runnableCells } from "./engine.ts";
import { startRun } from "./life-cycle.ts";
import { plainPolicy, type RunPolicy } from "./policy.ts";
import { sandboxOptions } from "./sandbox-wiring.ts";
import type { PrestartedKernel } from "./kernel-handoff.ts";
import type { KernelOptions } from "../kernel/client.ts";
import { notebookTitle } from "./titles.ts";

export interface NotebookRunOptions {
  backend: Backend;
  /** Default per-cell timeout in seconds; a cell's metadata.labbook.timeout overrides it. */
  timeoutS: number;
  keepGoing: boolean;
  outDir: string;
  reporter: Reporter;
  /** Cluster name: unique per run on a "fresh" backend, so that notebooks never share leftovers; the running cluster's on a "shared" one. */
  clusterName: string;
  /** Called with a function that stops everything at once (for Ctrl-C). */
  onAbortHandle?: (abort: () => Promise<void>) => void;
  /** Chooses among a lab's variants (e.g. which fault lab 08 injects); the kernel sees it as LABBOOK_SEED. */
  seed?: string;
  /** Which cells run, where and in which order: plainPolicy unless given (grading gives gradingPolicy). */
  policy?: RunPolicy;
  /** Host paths the cluster's nodes must not see: the run's output, the grader's inputs. */
  hidePaths?: string[];
  /** Run the notebook's kernel in a sandbox (kernel/sandbox.ts): grading does, for students' code. */
  sandbox?: boolean;
  /**
   * The kernel's working directory, which tslab takes for the notebook's folder: a lab's `import ... from
   * "./helper.js"` resolves from here. Default: the notebook's folder. Grading runs a notebook it built
   * in memory, so it names the lab's folder.
   */
  cwd?: string;
  /** Its kernel, started ahead by `labbook run` (kernel-handoff.ts), with kernelOptions' options. */
  prestarted?: PrestartedKernel;
  /** Called once its cluster and kernel are up, as its cells begin: `labbook run` starts the next kernel then. */
  onRunning?: () => void;
}

/** The kernel's options for a notebook at `path` (not sandboxed): what a prestarted kernel must match. */
export function kernelOptions(path: string, options: Pick<NotebookRunOptions, "cwd" | "clusterName" | "backend" | "seed">, graderNotes: string): KernelOptions & { env: Record<string, string> } {
  return {
    cwd: resolve(options.cwd ?? dirname(resolve(path))),
    env: {
      [CLUSTER_VARIABLE]: options.clusterName,
      [GRADER_NOTES_VARIABLE]: graderNotes,
      LABBOOK_BACKEND: options.backend.name,
      [TIME_SCALE_VARIABLE]: String(options.backend.timeScale?.() ?? 1),
      ...(process.env.LABBOOK_STATE_DIR ? { LABBOOK_STATE_DIR: process.env.LABBOOK_STATE_DIR } : {}),
      ...(options.seed === undefined ? {} : { [SEED_VARIABLE]: options.seed }),
    },
  };
}

/** `path` names the run in reports and the executed notebook in `outDir`; nothing is read from it. */
export async function runNotebook(source: Notebook, path: string, options: NotebookRunOptions): Promise<NotebookRunResult> {
  const started = Date.now();
  // Outputs go into a copy: the same notebook may run several times at once (a lab graded for a class).
  const notebook = structuredClone(source);
  const privileged = privilegedReason(notebook, path);
  const kubernetes = kubernetesRequest(notebook, path);
  mkdirSync(options.outDir, { recursive: true });
  const executedPath = join(options.outDir, basename(path));
  const title = notebookTitle(notebook, path);
  const result: NotebookRunResult = {
    notebook: path,
    executedNotebook: executedPath,
    title,
    backend: options.backend.name,
    cluster: options.clusterName,
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    passed: false,
    cells: [],
  };
  // Steps hand values to hidden checks here; outside every node, and gone with the run.
  const prestarted = options.sandbox ? undefined : options.prestarted;
  const graderNotes = prestarted?.graderNotes ?? ownedTempDir("notes");
  const session = kernelOptions(path, options, graderNotes);
  const hidden = [resolve(options.outDir), ...(options.hidePaths ?? [])];
  const policy = (options.policy ?? plainPolicy).start(runnableCells(notebook, path), { graderNotes, session });
  try {
    const run = await startRun({
      backend: options.backend,
      clusterName: options.clusterName,
      hide: hidden,
      privileged,
      kubernetes,
      kernel: (cluster) => (options.sandbox ? { ...session, ...sandboxOptions(options.backend, hidden, graderNotes, cluster) } : session),
      onAbortHandle: options.onAbortHandle,
      prestartedKernel: prestarted?.kernel,
    });
    options.onRunning?.();
    try {
      options.reporter.onNotebookStart?.({ notebook: path, title, cells: notebook.cells.length, cluster: run.cluster.name });
      result.cells = await runCells(notebook, run, policy, { path, executedPath, timeoutS: options.timeoutS, timeScale: options.backend.timeScale?.() ?? 1, keepGoing: options.keepGoing, reporter: options.reporter });
    } finally {
      await run.end();
    }
  } finally {
    policy.close();
    rmSync(graderNotes, { recursive: true, force: true });
  }
  result.durationMs = Date.now() - started;
  result.passed = result.cells.every((c) => c.status === "passed" || (c.status === "skipped" && (c.skipReason?.startsWith("needs ") || c.skipReason === GRADING_ONLY)));
  options.reporter.onNotebookEnd?.(result);
  return result;
}
