// `labbook run`: many notebooks, one after another, each on its own fresh cluster.
import { readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Backend } from "../backend/types.ts";
import { DEFAULT_CLUSTER_NAME } from "../cluster/cluster.ts";
import { LabbookError } from "../errors.ts";
import { NotebookError, readNotebook } from "../notebook/read.ts";
import { SerializingReporter } from "../report/serialize.ts";
import type { Reporter } from "../report/types.ts";
import { runNotebook } from "./notebook-run.ts";
import type { NotebookRunResult, RunSummary } from "../notebook/results.ts";

/** Notebooks named on the command line; a directory stands for its *.ipynb files, in name order. */
export function expandNotebookPaths(paths: string[]): string[] {
  return paths.flatMap((path) => {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      throw new NotebookError(`${path}: no such notebook or directory`);
    }
    if (!isDirectory) return [path];
    const found = readdirSync(path).filter((name) => name.endsWith(".ipynb") && !name.startsWith(".")).sort().map((name) => join(path, name));
    if (found.length === 0) throw new NotebookError(`${path}: no .ipynb notebooks in this directory`);
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
  /** Hidden checks last, in a fresh process (see NotebookRunOptions). */
  isolateHidden?: boolean;
  /** Each notebook's kernel in a sandbox (see NotebookRunOptions). */
  sandbox?: boolean;
  /** Host paths the nodes must not see, besides the output directory. */
  hidePaths?: string[];
  /** On a "shared" backend (VMs): the running cluster the notebooks use, one after another. */
  sharedCluster?: string;
}

async function runOne(path: string, index: number, options: RunNotebooksOptions): Promise<NotebookRunResult> {
  try {
    const clusterName = options.backend.runsOn === "shared" ? (options.sharedCluster ?? DEFAULT_CLUSTER_NAME) : `run${process.pid}-${index + 1}`;
    // The notebooks' own folders: a lab's node commands have no business with its source.
    return await runNotebook(path, { ...options, clusterName, hidePaths: [...(options.hidePaths ?? []), dirname(resolve(path))] });
  } catch (error) {
    // The cluster or the kernel would not start: say so for this notebook and go on with the next.
    if (!(error instanceof LabbookError)) throw error;
    const failed: NotebookRunResult = {
      notebook: path, executedNotebook: "", title: path, backend: options.backend.name, cluster: "", startedAt: new Date().toISOString(),
      durationMs: 0, passed: false, cells: [], infrastructureError: error.message,
    };
    options.reporter.onNotebookEnd?.(failed);
    return failed;
  }
}

export async function runNotebooks(paths: string[], options: RunNotebooksOptions): Promise<RunSummary> {
  const notebooks = expandNotebookPaths(paths);
  // Every notebook is read and validated before any cluster starts: bad input fails fast.
  for (const path of notebooks) readNotebook(path);
  const started = Date.now();
  options.reporter.onRunStart?.({ notebooks });
  const results: NotebookRunResult[] = new Array(notebooks.length);
  // Notebooks sharing one cluster must take turns.
  const jobs = options.backend.runsOn === "shared" ? 1 : Math.max(1, Math.min(options.jobs ?? 1, notebooks.length));
  // One at a time, the reporter hears everything live; with more, each notebook's lines come as a block.
  const serializer = jobs > 1 ? new SerializingReporter(options.reporter) : undefined;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < notebooks.length) {
      const index = next++;
      const path = notebooks[index]!;
      const key = `${index}:${path}`; // the same notebook may be named twice
      const reporter = serializer?.forNotebook(key) ?? options.reporter;
      results[index] = await runOne(path, index, { ...options, reporter });
      serializer?.finish(key);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return { startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, notebooks: results };
}
