// Runs one notebook headless on a fresh cluster of its own, cell by cell, writing the
// executed notebook after every cell (as papermill does) and telling the reporter as it goes.
import { chownSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Backend } from "../backend/types.ts";
import { Cluster } from "../cluster/cluster.ts";
import { readNotebook, writeNotebook } from "../notebook/read.ts";
import { kubernetesRequired, privilegedReason } from "../notebook/privileged.ts";
import { cellMetadata, GRADING_ONLY, isRunnable } from "../notebook/roles.ts";
import { sourceText, type Cell, type CodeCell, type ErrorOutput, type Notebook } from "../notebook/types.ts";
import type { Message } from "../kernel/wire.ts";
import type { Reporter } from "../report/types.ts";
import { CLUSTER_VARIABLE } from "../sdk/current-cluster.ts";
import { GRADER_NOTES_VARIABLE } from "../sdk/grader-notes.ts";
import { SEED_VARIABLE } from "../sdk/seed.ts";
import { errorFromStderr } from "./cell-error.ts";
import { CellRunner } from "./cell-runner.ts";
import { KernelSession, type CellExecution } from "./kernel-session.ts";
import type { KernelOptions } from "../kernel/client.ts";
import { SANDBOX_GID, SANDBOX_UID } from "../kernel/sandbox.ts";
import { LabbookError } from "../errors.ts";
import { OutputCollector } from "./outputs.ts";
import { unmetRequirements } from "./requirements.ts";
import { sealGraderNotes } from "./sealed-notes.ts";
import { ownedTempDir } from "../host/temp-dirs.ts";
import type { CellResult, NotebookRunResult } from "../notebook/results.ts";

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
  /**
   * Grading: the hidden checks run after every other cell, in a fresh process on the same cluster (no tslab: see cell-runner.ts),
   * preceded by the grader-setup cells, so nothing the student's cells did to their kernel (a
   * redefined check(), patched helpers) can reach them. Otherwise they run in place, and
   * grader-setup cells are skipped.
   */
  isolateHidden?: boolean;
  /** Host paths the cluster's nodes must not see: the run's output, the grader's inputs. */
  hidePaths?: string[];
  /** Run the notebook's kernel in a sandbox (kernel/sandbox.ts): grading does, for students' code. */
  sandbox?: boolean;
}

/** What runs cells: the notebook's tslab kernel, or, for hidden checks when grading, a CellRunner. */
interface CellSession {
  start(): Promise<void>;
  execute(code: string, timeoutMs: number, onOutput: (message: Message) => void): Promise<CellExecution>;
  close(): Promise<void>;
  kill(): void;
}

/**
 * A sandboxed kernel: it sees nothing the nodes may not, writes only its own directories and the run's
 * grader notes, and once started (again, after a restart) is plugged into its cluster's LAN.
 */
function sandboxOptions(backend: Backend, hidden: string[], graderNotes: string, cluster: () => Promise<Cluster>): Pick<KernelOptions, "sandbox" | "onStarted"> {
  const plug = backend.plugWorkstation?.bind(backend);
  if (!plug) throw new LabbookError(`the ${backend.name} backend cannot run sandboxed kernels (it cannot plug one into its LAN)`);
  return {
    sandbox: { hidden, writable: [graderNotes] },
    onStarted: async (kernel) => {
      const lan = await plug((await cluster()).name, kernel.kernelPid!);
      const file = join(kernel.directory, "cluster.json");
      writeFileSync(file, JSON.stringify(lan), { mode: 0o600 });
      chownSync(file, SANDBOX_UID, SANDBOX_GID);
    },
  };
}

export function notebookTitle(notebook: Notebook, path: string): string {
  const heading = notebook.cells.find((c) => c.cell_type === "markdown" && /^#\s/m.test(sourceText(c.source)));
  return heading ? /^#\s+(.*)$/m.exec(sourceText(heading.source))![1]!.trim() : basename(path, ".ipynb");
}

function cellTitle(cell: Cell): string {
  const line = sourceText(cell.source).split("\n").find((l) => l.trim() !== "") ?? "";
  return line.replace(/^\/\/\s*/, "").slice(0, 80);
}

export async function runNotebook(path: string, options: NotebookRunOptions): Promise<NotebookRunResult> {
  const started = Date.now();
  const notebook = readNotebook(path);
  const privileged = privilegedReason(notebook, path);
  const kubernetes = kubernetesRequired(notebook, path);
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
  const graderNotes = ownedTempDir("notes");
  /** Grading: the notes as they were before the student's first cell, which alone the hidden checks read. */
  let sealedNotes: string | undefined;
  const sessionOptions = {
    cwd: dirname(resolve(path)),
    env: {
      [CLUSTER_VARIABLE]: options.clusterName,
      [GRADER_NOTES_VARIABLE]: graderNotes,
      LABBOOK_BACKEND: options.backend.name,
      ...(process.env.LABBOOK_STATE_DIR ? { LABBOOK_STATE_DIR: process.env.LABBOOK_STATE_DIR } : {}),
      ...(options.seed === undefined ? {} : { [SEED_VARIABLE]: options.seed }),
    },
  };
  const hidden = [resolve(options.outDir), ...(options.hidePaths ?? [])];
  let clusterPromise: Promise<Cluster> | undefined;
  const kernelOptions = options.sandbox ? { ...sessionOptions, ...sandboxOptions(options.backend, hidden, graderNotes, () => clusterPromise!) } : sessionOptions;
  let session: CellSession = new KernelSession(kernelOptions);
  // A shared cluster (VMs) outlives the run: the runner attaches to it and never takes it down.
  const fresh = options.backend.runsOn === "fresh";
  const release = (name: string) => (fresh ? options.backend.down(name) : Promise.resolve());
  options.onAbortHandle?.(async () => {
    session.kill();
    await release(options.clusterName);
  });
  // The kernel warms up (about 2 s) while the cluster starts.
  clusterPromise = fresh ? Cluster.up({ backend: options.backend, name: options.clusterName, ephemeral: true, hide: hidden, ...(privileged ? { privileged } : {}), ...(kubernetes ? { kubernetes } : {}) }) : Cluster.attach(options.clusterName, options.backend);
  const [clusterUp, kernel] = await Promise.allSettled([clusterPromise, session.start()]);
  if (clusterUp.status === "rejected" || kernel.status === "rejected") {
    session.kill();
    rmSync(graderNotes, { recursive: true, force: true });
    if (clusterUp.status === "fulfilled") {
      clusterUp.value.close();
      await release(clusterUp.value.name);
    }
    throw clusterUp.status === "rejected" ? clusterUp.reason : (kernel as PromiseRejectedResult).reason;
  }
  const cluster = clusterUp.value;
  cluster.close(); // the kernel opens its own connections; the runner only owns the cluster's life
  try {
    options.reporter.onNotebookStart?.({ notebook: path, title, cells: notebook.cells.length, cluster: cluster.name });
    let stopped: string | undefined;
    let executionCount = 0;
    const codeCells = notebook.cells.flatMap((cell, index) => (isRunnable(cell) ? [{ cell, index, meta: cellMetadata(cell, `${path}: cell ${index + 1}`).meta }] : []));
    const hidden = (role: string) => options.isolateHidden === true && (role === "hidden-check" || role === "grader-setup");
    // The student's kernel goes first and for good; the hidden checks get one of their own.
    const order = [...codeCells.filter((c) => !hidden(c.meta.role)), ...codeCells.filter((c) => hidden(c.meta.role))];
    const firstHidden = order.find((c) => hidden(c.meta.role));
    for (const entry of order) {
      if (options.isolateHidden && sealedNotes === undefined && (entry.meta.role === "exercise" || entry === firstHidden)) sealedNotes = sealGraderNotes(graderNotes);
      const { index, meta } = entry;
      // A raw grader-setup cell runs as code; the executed notebook keeps it raw, without outputs.
      const cell: CodeCell = entry.cell.cell_type === "code" ? entry.cell : { ...entry.cell, cell_type: "code", outputs: [], execution_count: null };
      if (entry === firstHidden) {
        // The instructor's cells alone from here: a plain process, no tslab (see cell-runner-child.cjs).
        await session.close().catch(() => session.kill());
        session = new CellRunner({ ...sessionOptions, env: { ...sessionOptions.env, [GRADER_NOTES_VARIABLE]: sealedNotes! } });
        await session.start();
      }
      const base = { index, id: meta.id ?? cell.id, role: meta.role, title: cellTitle(cell), checks: [] };
      options.reporter.onCellStart?.({ notebook: path, ...base });
      const unmet = unmetRequirements(cluster, meta.requires);
      let cellResult: CellResult;
      if (unmet) {
        cellResult = { ...base, status: "skipped", durationMs: 0, skipReason: unmet };
      } else if (meta.role === "grader-setup" && !options.isolateHidden) {
        cellResult = { ...base, status: "skipped", durationMs: 0, skipReason: GRADING_ONLY };
      } else if (stopped && meta.role !== "teardown") {
        cellResult = { ...base, status: "skipped", durationMs: 0, skipReason: stopped };
      } else {
        cellResult = await runCell(cell, base, meta.timeout ?? options.timeoutS, session, options.reporter, path);
        if (cellResult.executionCount !== undefined) executionCount = cellResult.executionCount;
        cell.execution_count = cellResult.executionCount ?? ++executionCount;
        const failed = cellResult.status !== "passed";
        if (failed && !options.keepGoing && meta.role !== "teardown") stopped = `an earlier required cell (${base.id}) ${cellResult.status === "failed" ? "failed" : cellResult.status}; --keep-going runs the rest anyway`;
      }
      result.cells.push(cellResult);
      options.reporter.onCellEnd?.({ ...cellResult, notebook: path });
      writeNotebook(executedPath, notebook);
    }
    result.cells.sort((a, b) => a.index - b.index);
    writeNotebook(executedPath, notebook);
  } finally {
    await session.close().catch(() => session.kill());
    await release(cluster.name);
    rmSync(graderNotes, { recursive: true, force: true });
    if (sealedNotes) rmSync(sealedNotes, { recursive: true, force: true });
  }
  result.durationMs = Date.now() - started;
  result.passed = result.cells.every((c) => c.status === "passed" || (c.status === "skipped" && (c.skipReason?.startsWith("needs ") || c.skipReason === GRADING_ONLY)));
  options.reporter.onNotebookEnd?.(result);
  return result;
}

async function runCell(
  cell: CodeCell,
  base: Omit<CellResult, "status" | "durationMs">,
  timeoutS: number,
  session: CellSession,
  reporter: Reporter,
  notebookPath: string,
): Promise<CellResult> {
  const started = Date.now();
  const collector = new OutputCollector((check) => reporter.onCheck?.({ ...check, notebook: notebookPath, cellIndex: base.index }));
  const execution = await session.execute(sourceText(cell.source), timeoutS * 1000, (message) => collector.add(message));
  cell.outputs = collector.outputs;
  const durationMs = Date.now() - started;
  const checks = collector.checks;
  if (execution.kind === "timed-out") {
    const message = `the cell ran longer than its ${timeoutS} s timeout and was ${execution.restarted ? "stopped by restarting the kernel (its state is lost)" : "interrupted"}`;
    cell.outputs.push({ output_type: "error", ename: "TimeoutError", evalue: message, traceback: [message] });
    return { ...base, checks, status: "timed-out", durationMs, error: { name: "TimeoutError", message, traceback: [message] } };
  }
  if (execution.kind === "died") {
    const message = execution.error.message;
    cell.outputs.push({ output_type: "error", ename: "KernelDied", evalue: message, traceback: [message] });
    return { ...base, checks, status: "kernel-died", durationMs, error: { name: "KernelDied", message, traceback: [message] } };
  }
  const executionCount = execution.reply.execution_count;
  if (execution.reply.status === "abort") {
    const message = "the kernel aborted the cell without running it, three times";
    cell.outputs.push({ output_type: "error", ename: "Aborted", evalue: message, traceback: [message] });
    return { ...base, checks, status: "failed", durationMs, error: { name: "Aborted", message, traceback: [message] } };
  }
  if (execution.reply.status === "error") {
    // The launcher sends an `error` message; a kernel without it leaves only stderr to read.
    const sent = collector.outputs.find((o): o is ErrorOutput => o.output_type === "error");
    const error = sent ?? errorFromStderr(collector.stderr);
    if (!sent) cell.outputs.push(error);
    return { ...base, checks, status: "failed", durationMs, executionCount, error: { name: error.ename, message: error.evalue, traceback: error.traceback } };
  }
  const failedChecks = checks.filter((c) => !c.passed);
  return { ...base, checks, status: failedChecks.length ? "failed" : "passed", durationMs, executionCount };
}
