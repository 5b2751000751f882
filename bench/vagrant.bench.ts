// The Vagrant backend under this machine's software emulation (opt-in: npm run bench -- --only=vagrant; it
// takes most of an hour). Figures: `up` of 3 VMs without and with Kubernetes, the SSH exec median next to the
// embedded backend's, `labbook reset`, and every lab's time on the VMs (3 VMs with Kubernetes, each lab after a
// reset, as `labbook run --backend vagrant labs/` runs them) next to its time on the embedded cluster.
// `--vagrant-labs=FILE` takes the labs' times on VMs from the results.json of a run that already did that
// (npm run test:vagrant:all keeps its own in .labbook/reports/vagrant-all/), instead of running them again for
// another hour and a half; the figures then name that file and when its run started. When that run also recorded
// its `up` (up.json beside it), its `up` with Kubernetes and its resets between labs are reported too, and only
// the `up` without Kubernetes and the exec latency are measured anew.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { NetnsBackend } from "../runner/backend/netns/driver.ts";
import type { Backend } from "../runner/backend/types.ts";
import { VagrantBackend } from "../runner/backend/vagrant/driver.ts";
import { Cluster } from "../runner/cluster/cluster.ts";
import { runNotebooks } from "../runner/run/run-notebooks.ts";
import type { NotebookRunResult, RunSummary } from "../runner/notebook/results.ts";
import type { Figure } from "./cluster.bench.ts";
import { median, percentile, timeRuns } from "./stats.ts";

const LABS = fileURLToPath(new URL("../labs/", import.meta.url));
const NAME = "vbench";
/** Beside an earlier run's results.json: how long its `up` took (written by test/vagrant-all/labs.test.ts). */
export const UP_RECORD = "up.json";
const progress = (message: string) => process.stderr.write(`  ${message}\n`);

async function execMedian(cluster: Cluster, runs: number): Promise<number[]> {
  const node = cluster.node("node1");
  await node.$`true`; // the connection is opened once, as every lab's commands share it
  return timeRuns(runs, () => node.$`true`);
}

/** Every lab, one after another; on VMs each after `labbook reset`. */
async function labTimes(backend: Backend, clusterName?: string): Promise<Map<string, NotebookRunResult>> {
  const summary = await runNotebooks([LABS], {
    backend, timeoutS: 900, keepGoing: true, outDir: mkdtempSync(join(tmpdir(), "labbook-bench-vagrant-")), reporter: {},
    ...(clusterName ? { sharedCluster: clusterName, resetShared: true, onProgress: progress } : {}),
  });
  return new Map(summary.notebooks.map((run) => [basename(run.notebook, ".ipynb"), run]));
}

/** What an earlier run on VMs recorded: each lab's run, the resets between them, and its `up` when it wrote one. */
export interface EarlierRun {
  runs: Map<string, NotebookRunResult>;
  startedAt: string;
  /** From one notebook's end to the next one's start: `labbook reset` before each lab after the first. */
  betweenMs: number[];
  /** `up` of its VMs with Kubernetes, from up.json beside results.json (npm run test:vagrant:all writes it). */
  upMs?: number;
}

/** The labs' runs on VMs from an earlier run's results.json; refused unless every lab ran there on VMs. */
export function labTimesFrom(file: string): EarlierRun {
  let summary: RunSummary;
  try {
    summary = JSON.parse(readFileSync(file, "utf8")) as RunSummary;
  } catch (error) {
    throw new Error(`--vagrant-labs=${file}: not a results.json of labbook run (${(error as Error).message})`);
  }
  if (!Array.isArray(summary.notebooks) || summary.notebooks.length === 0) throw new Error(`--vagrant-labs=${file}: it records no notebook`);
  const elsewhere = summary.notebooks.filter((run) => run.backend !== "vagrant").map((run) => `${basename(run.notebook)} (${run.backend})`);
  if (elsewhere.length > 0) throw new Error(`--vagrant-labs=${file}: not every lab ran on VMs there: ${elsewhere.join(", ")}`);
  const betweenMs = summary.notebooks.slice(1).map((run, i) => {
    const before = summary.notebooks[i]!;
    return Date.parse(run.startedAt) - (Date.parse(before.startedAt) + before.durationMs);
  });
  const earlier: EarlierRun = { runs: new Map(summary.notebooks.map((run) => [basename(run.notebook, ".ipynb"), run])), startedAt: summary.startedAt, betweenMs };
  const upFile = join(dirname(file), UP_RECORD);
  if (existsSync(upFile)) {
    const up = JSON.parse(readFileSync(upFile, "utf8")) as { upMs?: unknown; exitCode?: unknown };
    if (typeof up.upMs !== "number" || up.exitCode !== 0) throw new Error(`--vagrant-labs=${file}: ${upFile} records no successful up (${JSON.stringify(up)})`);
    earlier.upMs = up.upMs;
  }
  return earlier;
}

/** A lab's figure; a failed lab's time is named so, with the cells that failed, not passed off as a result. */
function labFigure(prefix: string, lab: string, run: NotebookRunResult): Figure {
  const failed = run.cells.filter((c) => c.status === "failed" || c.status === "timed-out" || c.status === "kernel-died").map((c) => c.id);
  const verdict = run.passed ? "" : ` (FAILED: ${run.infrastructureError ?? failed.join(", ")})`;
  return { name: `${prefix}: lab ${lab}${verdict}`, medianMs: run.durationMs, p90Ms: run.durationMs, runs: 1 };
}

export async function benchVagrant(execRuns: number, labsFrom?: string): Promise<Figure[]> {
  const earlier = labsFrom === undefined ? undefined : labTimesFrom(labsFrom); // a bad file fails before any VM starts
  const vagrant = new VagrantBackend();
  const netns = new NetnsBackend();
  const figures: Figure[] = [];

  try {
    const [upMs] = await timeRuns(1, () => Cluster.up({ backend: vagrant, name: NAME, onProgress: progress }).then((c) => c.close()));
    figures.push({ name: "vagrant: up, 3 VMs without Kubernetes (software emulation)", medianMs: upMs!, p90Ms: upMs!, runs: 1 });
    const vm = await Cluster.attach(NAME, vagrant);
    const vmExec = await execMedian(vm, execRuns);
    vm.close();
    figures.push({ name: "vagrant: exec `true` on an open connection", medianMs: median(vmExec), p90Ms: percentile(vmExec, 90), runs: execRuns });
  } finally {
    await vagrant.down(NAME);
  }

  const kubernetesUp = "vagrant: up, 3 VMs with Kubernetes (kubeadm, offline; software emulation)";
  const reset = "vagrant: labbook reset (3 VMs back to their clean snapshot, Kubernetes Ready)";
  let onVms: Map<string, NotebookRunResult>;
  if (earlier?.upMs !== undefined && earlier.betweenMs.length > 0) {
    // That run did both already, on the same VMs its labs ran on: another hour of VMs would only repeat them.
    const from = ` (the run of ${earlier.startedAt})`;
    figures.push({ name: kubernetesUp + from, medianMs: earlier.upMs, p90Ms: earlier.upMs, runs: 1 });
    figures.push({ name: `${reset}, before each lab after the first${from}`, medianMs: median(earlier.betweenMs), p90Ms: percentile(earlier.betweenMs, 90), runs: earlier.betweenMs.length });
    onVms = earlier.runs;
  } else {
    try {
      const [kubeUpMs] = await timeRuns(1, () => Cluster.up({ backend: vagrant, name: NAME, kubernetes: true, onProgress: progress }).then((c) => c.close()));
      figures.push({ name: kubernetesUp, medianMs: kubeUpMs!, p90Ms: kubeUpMs!, runs: 1 });
      const [resetMs] = await timeRuns(1, () => vagrant.reset(NAME, { onProgress: progress }));
      figures.push({ name: reset, medianMs: resetMs!, p90Ms: resetMs!, runs: 1 });
      onVms = earlier?.runs ?? (await labTimes(vagrant, NAME));
    } finally {
      await vagrant.down(NAME);
    }
  }

  const ns = await Cluster.up({ backend: netns, name: NAME });
  try {
    const nsExec = await execMedian(ns, execRuns);
    figures.push({ name: "netns: exec `true` on an open connection", medianMs: median(nsExec), p90Ms: percentile(nsExec, 90), runs: execRuns });
  } finally {
    await ns.down();
  }
  const embedded = await labTimes(netns);
  for (const [lab, run] of onVms) {
    figures.push(labFigure(earlier ? `vagrant (3 VMs, Kubernetes; the run of ${earlier.startedAt})` : "vagrant (3 VMs, Kubernetes)", lab, run));
    const there = embedded.get(lab);
    if (there) figures.push(labFigure("netns (embedded)", lab, there));
  }
  const total = (runs: Iterable<NotebookRunResult>) => [...runs].reduce((sum, run) => sum + run.durationMs, 0);
  figures.push({ name: `vagrant: all ${onVms.size} labs, without the resets between them`, medianMs: total(onVms.values()), p90Ms: total(onVms.values()), runs: 1 });
  figures.push({ name: `netns: all ${embedded.size} labs`, medianMs: total(embedded.values()), p90Ms: total(embedded.values()), runs: 1 });
  return figures;
}
