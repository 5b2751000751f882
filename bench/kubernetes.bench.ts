// Kubernetes in the embedded cluster: how long until it is ready (every node Ready, CoreDNS answering),
// phase by phase, how long one pod takes to run, what an idle cluster holds in memory, and the build.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetnsBackend } from "../runner/backend/netns/driver.ts";
import { readState } from "../runner/host/state.ts";
import { Cluster } from "../runner/cluster/cluster.ts";
import { buildKubernetes } from "../runner/kubernetes/build.ts";
import { withPeakMemory } from "../test/helpers/memory.ts";
import type { Figure } from "./cluster.bench.ts";
import { median, percentile } from "./stats.ts";

const READY_TARGET_MS = 10_000;

function figure(name: string, samples: number[], unit: Figure["unit"] = "ms", target?: { limit: number; text: string }): Figure {
  const medianMs = median(samples);
  return { name, medianMs, p90Ms: percentile(samples, 90), runs: samples.length, unit, target: target?.text, met: target ? medianMs <= target.limit : undefined };
}

/** The resident memory of a node's processes, from its memory cgroup (containers included). */
function nodeRssMb(cluster: string, node: string): number {
  const procs = readState(cluster)!.cgroups[node]!.find((p) => p.includes("/memory/"));
  if (!procs) return Number.NaN;
  const stat = readFileSync(join(procs, "..", "memory.stat"), "utf8");
  return Number(/^total_rss (\d+)$/m.exec(stat)?.[1] ?? Number.NaN) / 1024 / 1024;
}

export async function benchKubernetes(runs: number): Promise<Figure[]> {
  const backend = new NetnsBackend();
  const ready: number[] = [];
  const phases = new Map<string, number[]>();
  const podRunning: number[] = [];
  const idleMb: number[] = [];
  for (let i = 0; i < runs; i++) {
    const name = `kbench${i}`;
    const started = performance.now();
    const cluster = await Cluster.up({ backend, name, kubernetes: true });
    ready.push(performance.now() - started);
    for (const [phase, ms] of Object.entries(readState(name)!.kubernetes!.phases ?? {})) phases.set(phase, [...(phases.get(phase) ?? []), ms]);
    try {
      if (i === 0) {
        const node1 = cluster.node("node1");
        for (let p = 0; p < 5; p++) {
          const t = performance.now();
          await node1.$`kubectl run bench-${p} --image labbook/busybox:1 --restart=Never -- sleep 3600`;
          await node1.$`kubectl wait --for=jsonpath={.status.phase}=Running pod/bench-${p} --timeout=60s`;
          podRunning.push(performance.now() - t);
        }
        await node1.$`kubectl delete pod --all --grace-period=0 --force --wait=false`;
        // Idle: what the cluster holds once its start-up work is over.
        await new Promise((resolve) => setTimeout(resolve, 20_000));
        idleMb.push(cluster.nodes.reduce((sum, node) => sum + nodeRssMb(name, node.name), 0));
      }
    } finally {
      await cluster.down();
    }
  }
  return [
    figure("(k) Kubernetes cluster ready (3 nodes Ready, CoreDNS answering)", ready, "ms", { limit: READY_TARGET_MS, text: "<= 10 s (kind 30-60 s, k3d 15-25 s)" }),
    ...[...phases].map(([phase, samples]) => figure(`    of which: ${phase}`, samples)),
    figure("(k) kubectl run of one pod until Running", podRunning),
    figure("(k) idle 3-node Kubernetes cluster, resident memory", idleMb, "MB"),
  ];
}

/** The build, warm (Go's cache full) and cold (an empty Go build cache): minutes each, so only when asked for. */
export async function benchKubernetesBuild(): Promise<Figure[]> {
  const timedBuild = async () => {
    const started = performance.now();
    const { peakMb, baseMb } = await withPeakMemory(() => buildKubernetes({ force: true }));
    return { ms: performance.now() - started, mb: peakMb - baseMb };
  };
  const warm = await timedBuild();
  const cache = mkdtempSync(join(tmpdir(), "labbook-gocache-"));
  const previous = process.env.GOCACHE;
  process.env.GOCACHE = cache;
  try {
    const cold = await timedBuild();
    return [
      figure("(b) Kubernetes build, warm (Go's build cache full)", [warm.ms]),
      figure("(b) Kubernetes build, cold (empty Go build cache; Go module cache kept)", [cold.ms]),
      figure("(b) Kubernetes build, cold: peak memory of the machine above idle", [cold.mb], "MB"),
    ];
  } finally {
    if (previous === undefined) delete process.env.GOCACHE;
    else process.env.GOCACHE = previous;
    rmSync(cache, { recursive: true, force: true });
  }
}
