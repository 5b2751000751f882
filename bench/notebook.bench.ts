// labbook's headless notebook run against Jupyter's own runners (`jupyter nbconvert --execute`, papermill and
// nbclient's `jupyter execute`, from .labbook/venv), on the same notebook of trivial cells with the same kernel
// (labbook's kernelspec: the warm snapshot when built), in one run; and the kernel's start on its own.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { NetnsBackend } from "../runner/backend/netns/driver.ts";
import { KernelClient } from "../runner/kernel/client.ts";
import { installKernelSpec, KERNEL_NAME } from "../runner/kernel/kernelspec.ts";
import { prepareWarmKernels } from "../runner/kernel/warm-up.ts";
import type { Notebook } from "../runner/notebook/types.ts";
import { readNotebook } from "../runner/notebook/read.ts";
import { runNotebook } from "../runner/run/notebook-run.ts";
import type { Figure } from "./cluster.bench.ts";
import { median, percentile, timeRuns } from "./stats.ts";

const run = promisify(execFile);
const CELLS = Array.from({ length: 10 }, (_, i) => `const value${i}: number = ${i} * 2;\nconsole.log("cell ${i}", value${i});`);
/** The first cell of `kernel ready`: it imports the SDK, as a lab's first cell does. */
const FIRST_CELL = 'import { check } from "labbook";\nconst ready: number = 1;';

function writeBenchNotebook(): string {
  const dir = fileURLToPath(new URL("../test-output/bench/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  const notebook: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: KERNEL_NAME, display_name: "TypeScript (labbook)", language: "typescript" } },
    cells: CELLS.map((source, i) => ({ cell_type: "code", id: `c${i}`, metadata: {}, source, outputs: [], execution_count: null })),
  };
  const path = join(dir, "ten-cells.ipynb");
  writeFileSync(path, JSON.stringify(notebook));
  return path;
}

/**
 * A kernel started ahead, as `labbook run` over several notebooks hands one to the next notebook
 * (run/kernel-handoff.ts): from taking it, started, to the first cell's reply. Only the start is not timed.
 */
async function prestartedKernelReady(cwd: string, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const kernel = await KernelClient.start({ cwd });
    try {
      times.push(...(await timeRuns(1, () => kernel.execute(FIRST_CELL, () => {}))));
    } finally {
      await kernel.shutdown();
    }
  }
  return times;
}

/** The kernel alone: each cell's round trip on a bare client, no runner around it. */
async function rawCellTimes(cwd: string): Promise<number[]> {
  const kernel = await KernelClient.start({ cwd });
  try {
    const times: number[] = [];
    for (const code of CELLS) times.push(...(await timeRuns(1, () => kernel.execute(code, () => {}))));
    return times;
  } finally {
    await kernel.shutdown();
  }
}

const LABBOOK_BIN = fileURLToPath(new URL("../bin/labbook.js", import.meta.url));
const VENV_BIN = fileURLToPath(new URL("../.labbook/venv/bin/", import.meta.url));

/** Jupyter's runners, each a command line for the notebook at `path` writing into `out`. */
const ANCHORS: Array<{ name: string; command: (path: string, out: string) => [string, string[]] }> = [
  { name: "nbconvert", command: (path, out) => [join(VENV_BIN, "jupyter-nbconvert"), ["--to", "notebook", "--execute", `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`, "--output-dir", out, path]] },
  { name: "papermill", command: (path, out) => [join(VENV_BIN, "papermill"), ["--kernel", KERNEL_NAME, "--no-progress-bar", path, join(out, "out.ipynb")]] },
  { name: "nbclient", command: (path, out) => [join(VENV_BIN, "jupyter-execute"), [`--kernel_name=${KERNEL_NAME}`, `--output=${join(out, "out")}`, path]] },
];

/** From spawn to the first cell's reply (a cell that imports the SDK), with the warm snapshot or without. */
async function kernelReady(cwd: string, runs: number, warm: boolean): Promise<number[]> {
  const saved = process.env.LABBOOK_KERNEL_SNAPSHOT;
  process.env.LABBOOK_KERNEL_SNAPSHOT = warm ? "1" : "0";
  try {
    return await timeRuns(runs, async () => {
      const kernel = await KernelClient.start({ cwd });
      try {
        await kernel.execute(FIRST_CELL, () => {});
      } finally {
        await kernel.shutdown();
      }
    });
  } finally {
    if (saved === undefined) delete process.env.LABBOOK_KERNEL_SNAPSHOT;
    else process.env.LABBOOK_KERNEL_SNAPSHOT = saved;
  }
}

export async function benchNotebook(runs: number): Promise<Figure[]> {
  prepareWarmKernels();
  const path = writeBenchNotebook();
  const cwd = join(path, "..");
  const prefix = mkdtempSync(join(tmpdir(), "labbook-bench-jupyter-"));
  installKernelSpec({ prefix });
  const env = { ...process.env, JUPYTER_PATH: join(prefix, "share", "jupyter") };

  const labbookTotals: number[] = [];
  const commandTotals: number[] = [];
  const overheads: number[] = [];
  const anchorTotals = new Map(ANCHORS.map((a) => [a.name, [] as number[]]));
  for (let i = 0; i < runs; i++) {
    const raw = await rawCellTimes(cwd);
    let cellTimes: number[] = [];
    labbookTotals.push(
      ...(await timeRuns(1, async () => {
        const result = await runNotebook(readNotebook(path), path, {
          backend: new NetnsBackend(),
          timeoutS: 60,
          keepGoing: false,
          outDir: mkdtempSync(join(tmpdir(), "labbook-bench-out-")),
          reporter: {},
          clusterName: `benchnb${i}`,
        });
        cellTimes = result.cells.map((c) => c.durationMs);
      })),
    );
    // The first cell pays for warming the compiler in both; compare cells 2-10.
    cellTimes.slice(1).forEach((t, k) => overheads.push(t - raw[k + 1]!));
    // The command as a user types it, a process like each anchor: Node's start, the CLI's modules, the reports.
    const out = mkdtempSync(join(tmpdir(), "labbook-bench-command-"));
    commandTotals.push(...(await timeRuns(1, () => run(process.execPath, [LABBOOK_BIN, "run", "--out", out, path], { cwd }))));
    for (const anchor of ANCHORS) {
      const [command, args] = anchor.command(path, mkdtempSync(join(tmpdir(), `labbook-bench-${anchor.name}-`)));
      anchorTotals.get(anchor.name)!.push(...(await timeRuns(1, () => run(command, args, { env, cwd }))));
    }
  }
  // A command's own start: Node, the CLI's modules, one notebook read (no cluster, no kernel); both ways bin/labbook.js
  // runs the sources, Node's own type stripping (with its compile cache) and tsx (Node without type stripping).
  const params = (nodeOptions: string[]) => timeRuns(runs * 5, () => run(process.execPath, [...nodeOptions, LABBOOK_BIN, "params", path], { cwd }));
  const commandStart = await params([]);
  const commandStartTsx = await params(["--no-experimental-strip-types"]);
  const warm = await kernelReady(cwd, runs * 5, true);
  const cold = await kernelReady(cwd, runs * 3, false);
  const prestarted = await prestartedKernelReady(cwd, runs * 5);
  // The ratios compare commands with commands: each anchor is a process started from the shell, and so is this.
  const labbookMedian = median(commandTotals);
  const figures: Figure[] = [
    { name: "10-cell notebook: the labbook run command (fresh cluster + kernel)", medianMs: labbookMedian, p90Ms: percentile(commandTotals, 90), runs },
    { name: "10-cell notebook: the same run in-process (runNotebook; no Node start, no CLI)", medianMs: median(labbookTotals), p90Ms: percentile(labbookTotals, 90), runs },
    { name: "a command's start: labbook params NOTEBOOK (Node's type stripping)", medianMs: median(commandStart), p90Ms: percentile(commandStart, 90), runs: commandStart.length },
    { name: "a command's start: the same through tsx (Node without type stripping)", medianMs: median(commandStartTsx), p90Ms: percentile(commandStartTsx, 90), runs: commandStartTsx.length },
  ];
  for (const anchor of ANCHORS) {
    const totals = anchorTotals.get(anchor.name)!;
    const ratio = median(totals) / labbookMedian;
    figures.push(
      { name: `10-cell notebook: ${anchor.name === "nbclient" ? "jupyter execute (nbclient)" : anchor.name === "nbconvert" ? "jupyter nbconvert --execute" : "papermill"}`, medianMs: median(totals), p90Ms: percentile(totals, 90), runs },
      { name: `speed-up over ${anchor.name} (ratio of medians)`, medianMs: ratio, p90Ms: ratio, runs, unit: "x", target: ">= 5x", met: ratio >= 5 },
    );
  }
  figures.push(
    { name: "kernel ready: spawn to the first cell's reply (warm snapshot)", medianMs: median(warm), p90Ms: percentile(warm, 90), runs: warm.length, target: "<= 200 ms", met: median(warm) <= 200 },
    { name: "kernel ready without the snapshot (LABBOOK_KERNEL_SNAPSHOT=0)", medianMs: median(cold), p90Ms: percentile(cold, 90), runs: cold.length },
    // Not the target's figure (that counts from spawn): what the hand-off saves every notebook after a suite's first.
    { name: "kernel started ahead (labbook run's hand-off): taken, to the first cell's reply", medianMs: median(prestarted), p90Ms: percentile(prestarted, 90), runs: prestarted.length },
    { name: "runner overhead per cell, beyond the kernel's own round trip", medianMs: median(overheads), p90Ms: percentile(overheads, 90), runs: overheads.length, target: "<= 30 ms", met: median(overheads) <= 30 },
  );
  return figures;
}
