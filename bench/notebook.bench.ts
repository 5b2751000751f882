// labbook's headless notebook run against Jupyter's own `nbconvert --execute`, on the same
// notebook of trivial cells with the same (patched) tslab kernel, in one run.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { NetnsBackend } from "../runner/backend/netns/driver.ts";
import { KernelClient } from "../runner/kernel/client.ts";
import { installKernelSpec, KERNEL_NAME } from "../runner/kernel/kernelspec.ts";
import type { Notebook } from "../runner/notebook/types.ts";
import { readNotebook } from "../runner/notebook/read.ts";
import { runNotebook } from "../runner/run/notebook-run.ts";
import type { Figure } from "./cluster.bench.ts";
import { median, percentile, timeRuns } from "./stats.ts";

const run = promisify(execFile);
const CELLS = Array.from({ length: 10 }, (_, i) => `const value${i}: number = ${i} * 2;\nconsole.log("cell ${i}", value${i});`);

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

export async function benchNotebook(runs: number): Promise<Figure[]> {
  const path = writeBenchNotebook();
  const cwd = join(path, "..");
  const prefix = mkdtempSync(join(tmpdir(), "labbook-bench-jupyter-"));
  installKernelSpec({ prefix });
  const env = { ...process.env, JUPYTER_PATH: join(prefix, "share", "jupyter") };

  const labbookTotals: number[] = [];
  const overheads: number[] = [];
  const nbconvertTotals: number[] = [];
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
    const out = mkdtempSync(join(tmpdir(), "labbook-bench-nbconvert-"));
    nbconvertTotals.push(
      ...(await timeRuns(1, () =>
        run("jupyter-nbconvert", ["--to", "notebook", "--execute", `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`, "--output-dir", out, path], { env, cwd }),
      )),
    );
  }
  const labbookMedian = median(labbookTotals);
  const nbconvertMedian = median(nbconvertTotals);
  return [
    { name: "10-cell notebook: labbook run (fresh cluster + kernel)", medianMs: labbookMedian, p90Ms: percentile(labbookTotals, 90), runs, target: "<= nbconvert / 2", met: labbookMedian * 2 <= nbconvertMedian },
    { name: "10-cell notebook: jupyter nbconvert --execute", medianMs: nbconvertMedian, p90Ms: percentile(nbconvertTotals, 90), runs },
    { name: "speed-up over nbconvert (ratio of medians)", medianMs: nbconvertMedian / labbookMedian, p90Ms: nbconvertMedian / labbookMedian, runs, unit: "x", target: ">= 2x", met: nbconvertMedian / labbookMedian >= 2 },
    { name: "runner overhead per cell, beyond the kernel's own round trip", medianMs: median(overheads), p90Ms: percentile(overheads, 90), runs: overheads.length, target: "<= 30 ms", met: median(overheads) <= 30 },
  ];
}
