// The Vagrant backend under this machine's software emulation (opt-in: npm run bench -- --only=vagrant;
// it takes minutes). Figures: `up` of 2 VMs, the SSH exec median over the vagrant backend next to the
// embedded one's, and lab 02's run time on each.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NetnsBackend } from "../runner/backend/netns/driver.ts";
import type { Backend } from "../runner/backend/types.ts";
import { VagrantBackend } from "../runner/backend/vagrant/driver.ts";
import { Cluster } from "../runner/cluster/cluster.ts";
import { runNotebooks } from "../runner/run/run-notebooks.ts";
import type { Figure } from "./cluster.bench.ts";
import { median, percentile, timeRuns } from "./stats.ts";

const LAB = fileURLToPath(new URL("../labs/02-cross-host-routes/02-cross-host-routes.ipynb", import.meta.url));
const NAME = "vbench";

async function execMedian(cluster: Cluster, runs: number): Promise<number[]> {
  const node = cluster.node("node1");
  await node.$`true`; // the connection is opened once, as every lab's commands share it
  return timeRuns(runs, () => node.$`true`);
}

async function labTime(backend: Backend, clusterName?: string): Promise<number> {
  const summary = await runNotebooks([LAB], { backend, timeoutS: 600, keepGoing: true, outDir: mkdtempSync(join(tmpdir(), "labbook-bench-vagrant-")), reporter: {}, ...(clusterName ? { sharedCluster: clusterName } : {}) });
  const run = summary.notebooks[0]!;
  if (!run.passed) throw new Error(`bench: lab 02 failed on ${backend.name}, so its time means nothing: ${run.infrastructureError ?? run.cells.filter((c) => c.status !== "passed" && c.status !== "skipped").map((c) => c.id).join(", ")}`);
  return run.durationMs;
}

export async function benchVagrant(execRuns: number): Promise<Figure[]> {
  const vagrant = new VagrantBackend();
  const netns = new NetnsBackend();
  const figures: Figure[] = [];
  const [upMs] = await timeRuns(1, () => Cluster.up({ backend: vagrant, name: NAME, nodes: 2, onProgress: (m) => process.stderr.write(`  ${m}\n`) }).then((c) => c.close()));
  try {
    figures.push({ name: "vagrant: up, 2 VMs (software emulation)", medianMs: upMs!, p90Ms: upMs!, runs: 1 });
    const vm = await Cluster.attach(NAME, vagrant);
    const vmExec = await execMedian(vm, execRuns);
    vm.close();
    figures.push({ name: "vagrant: exec `true` on an open connection", medianMs: median(vmExec), p90Ms: percentile(vmExec, 90), runs: execRuns });
    const vmLab = await labTime(vagrant, NAME);
    figures.push({ name: "vagrant: lab 02 (2 nodes; exercise skipped)", medianMs: vmLab, p90Ms: vmLab, runs: 1 });
  } finally {
    await vagrant.down(NAME);
  }
  const ns = await Cluster.up({ backend: netns, name: NAME, nodes: 2 });
  try {
    const nsExec = await execMedian(ns, execRuns);
    figures.push({ name: "netns: exec `true` on an open connection", medianMs: median(nsExec), p90Ms: percentile(nsExec, 90), runs: execRuns });
  } finally {
    await ns.down();
  }
  const nsLab = await labTime(netns);
  figures.push({ name: "netns: lab 02 (3 nodes, with the exercise)", medianMs: nsLab, p90Ms: nsLab, runs: 1 });
  return figures;
}
