// `labbook run`: many notebooks, each on its own fresh cluster (or, on a shared backend, one after another).
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Backend } from "../backend/types.ts";
import { DEFAULT_CLUSTER_NAME } from "../cluster/cluster.ts";
import { LabbookError } from "../errors.ts";
import { assertParametersKnown, injectParameters, type ParameterValue } from "../notebook/parameters.ts";
import { NotebookError, readNotebook } from "../notebook/read.ts";
import type { NotebookRunResult, RunSummary } from "../notebook/results.ts";
import { sourceText, type Notebook } from "../notebook/types.ts";
import { SerializingReporter } from "../report/serialize.ts";
import type { Reporter } from "../report/types.ts";
import { assertSdkResolves } from "../jupyter/sdk-link.ts";
import { infrastructureErrorResult } from "./infrastructure-error.ts";
import { kernelOptions, runNotebook, type NotebookRunOptions } from "./notebook-run.ts";
import { KernelHandoff } from "./kernel-handoff.ts";
import type { RunPolicy } from "./policy.ts";
import { inPool, poolSize } from "./pool.ts";
import { prepareWarmKernels } from "../kernel/warm-up.ts";

/**
 * Notebooks named on the command line. A directory stands for its *.ipynb files and its labs (a folder
 * NN-name/ holding NN-name.ipynb, see labs/README.md), in name order; folders named _x (a lab's template) are left out.
 */
export function expandNotebookPaths(paths: string[]): string[] {
  return paths.flatMap((path) => {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      throw new NotebookError(`${path}: no such notebook or directory`);
    }
    if (!isDirectory) return [path];
    const found = readdirSync(path)
      .filter((name) => !name.startsWith("."))
      .sort()
      .flatMap((name) => {
        if (name.endsWith(".ipynb")) return [join(path, name)];
        const lab = join(path, name, `${name}.ipynb`);
        return !name.startsWith("_") && existsSync(lab) ? [lab] : [];
      });
    if (found.length === 0) throw new NotebookError(`${path}: no .ipynb notebooks in this directory, nor lab folders (NAME/NAME.ipynb)`);
    return found;
  });
}

export interface RunNotebooksOptions {
  backend: Backend;
  timeoutS: number;
  keepGoing: boolean;
  outDir: string;
  reporter: Reporter;
  onAbortHandle?: (abort: () => Promise<void>) => void;
  seed?: string;
  /** How many notebooks run at once, each on its own cluster (default 1). */
  jobs?: number;
  /** Which cells run where (see NotebookRunOptions); `--isolate-hidden` gives grading's. */
  policy?: RunPolicy;
  /** Each notebook's kernel in a sandbox (see NotebookRunOptions). */
  sandbox?: boolean;
  /** Host paths the nodes must not see, besides the output directory. */
  hidePaths?: string[];
  /** On a "shared" backend (VMs): the running cluster the notebooks use, one after another. */
  sharedCluster?: string;
  /**
   * On a shared backend that can (VMs): its clean state back before each notebook (`labbook reset`), as the
   * fresh cluster a notebook gets elsewhere. Without a clean state saved, notebooks run on the cluster as it is.
   */
  resetShared?: boolean;
  /** Progress of what is not a notebook's own (the reset between notebooks). */
  onProgress?: (message: string) => void;
  /** `-p` values: each notebook gets those its `parameters` cell declares; a name none declares is an error. */
  parameters?: Record<string, ParameterValue>;
}

let noSnapshotSaid = false;

/** `labbook reset` before a notebook on a shared cluster; says once, and goes on, when there is nothing to reset to. */
async function resetShared(clusterName: string, options: RunNotebooksOptions): Promise<void> {
  const { backend, onProgress = () => {} } = options;
  if (!options.resetShared || backend.runsOn !== "shared" || !backend.reset) return;
  try {
    onProgress(await backend.reset(clusterName, { onProgress }));
  } catch (error) {
    if (!(error instanceof LabbookError)) throw error;
    if (!noSnapshotSaid) onProgress(`cannot reset cluster "${clusterName}", so the notebooks run on it as it is: ${error.message}`);
    noSnapshotSaid = true;
  }
}

const SDK_IMPORT = /\bfrom\s*["']labbook["']|\b(?:import|require)\s*\(\s*["']labbook["']\s*\)/;

function importsSdk(notebook: Notebook): boolean {
  return notebook.cells.some((cell) => cell.cell_type === "code" && SDK_IMPORT.test(sourceText(cell.source)));
}

function clusterNameFor(index: number, options: RunNotebooksOptions): string {
  return options.backend.runsOn === "shared" ? (options.sharedCluster ?? DEFAULT_CLUSTER_NAME) : `run${process.pid}-${index + 1}`;
}

type RunOneOptions = RunNotebooksOptions & Pick<NotebookRunOptions, "prestarted" | "onRunning">;

async function runOne(notebook: Notebook, path: string, index: number, options: RunOneOptions): Promise<NotebookRunResult> {
  try {
    const clusterName = clusterNameFor(index, options);
    await resetShared(clusterName, options);
    // The notebooks' own folders: a lab's node commands have no business with its source.
    return await runNotebook(notebook, path, { ...options, clusterName, hidePaths: [...(options.hidePaths ?? []), dirname(resolve(path))] });
  } catch (error) {
    // The cluster or the kernel would not start: say so for this notebook and go on with the next.
    if (!(error instanceof LabbookError)) throw error;
    const failed = infrastructureErrorResult(path, options.backend.name, error.message);
    options.reporter.onNotebookEnd?.(failed);
    return failed;
  }
}

export async function runNotebooks(paths: string[], options: RunNotebooksOptions): Promise<RunSummary> {
  const notebookPaths = expandNotebookPaths(paths);
  // Every notebook is read and validated before any cluster starts: bad input fails fast.
  const read = new Map(notebookPaths.map((path) => [path, readNotebook(path)]));
  const parameters = options.parameters ?? {};
  assertParametersKnown(notebookPaths.map((path) => ({ path, notebook: read.get(path)! })), parameters);
  for (const [path, notebook] of read) read.set(path, injectParameters(notebook, path, parameters));
  // A lab kept outside this checkout (an instructor's course repository) imports the SDK only once linked there.
  assertSdkResolves(notebookPaths.filter((path) => importsSdk(read.get(path)!)).map((path) => dirname(resolve(path))), "labbook run");
  prepareWarmKernels(options.onProgress);
  const started = Date.now();
  options.reporter.onRunStart?.({ notebooks: notebookPaths });
  // Notebooks sharing one cluster must take turns.
  const jobs = options.backend.runsOn === "shared" ? 1 : poolSize(options.jobs ?? 1, notebookPaths.length);
  // One at a time, the reporter hears everything live; with more, each notebook's lines come as a block.
  const serializer = jobs > 1 ? new SerializingReporter(options.reporter) : undefined;
  // While a notebook runs, the next one's kernel starts (a sandboxed kernel needs its cluster to start).
  const handoff = options.sandbox || notebookPaths.length < 2 ? undefined : new KernelHandoff();
  const prestartNext = () => {
    const next = handoff?.firstUnstarted(notebookPaths.length);
    if (next === undefined) return;
    handoff!.prestart(next, (graderNotes) => kernelOptions(notebookPaths[next]!, { ...options, clusterName: clusterNameFor(next, options) }, graderNotes));
  };
  const onAbortHandle = options.onAbortHandle && ((abort: () => Promise<void>) => options.onAbortHandle!(async () => {
    handoff?.kill();
    await abort();
  }));
  let results: NotebookRunResult[];
  try {
    results = await inPool(notebookPaths, jobs, async (path, index) => {
      const key = `${index}:${path}`; // the same notebook may be named twice
      const reporter = serializer?.forNotebook(key) ?? options.reporter;
      const prestarted = handoff?.take(index);
      try {
        const result = await runOne(read.get(path)!, path, index, { ...options, reporter, onAbortHandle, prestarted, onRunning: prestartNext });
        serializer?.finish(key);
        return result;
      } finally {
        // Ended with its notebook, or never adopted (the notebook failed before its kernel started).
        if (prestarted) await handoff!.discard(prestarted);
      }
    });
  } finally {
    await handoff?.close();
  }
  return { startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, notebooks: results };
}
