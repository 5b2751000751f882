// The whole lab set, as `labbook run labs/` runs it: one lab after another, each on a fresh
// cluster and kernel. Target (issue 4): the networking labs (00-04, 07, 08) in at most 90 s on 2 cores,
// set before they ran Kubernetes. For each lab, where the time goes: the cells, and the rest (its cluster,
// Kubernetes included for the labs that declare it, and its kernel's start).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { NetnsBackend } from "../runner/backend/netns/driver.ts";
import { kubernetesRequired } from "../runner/notebook/privileged.ts";
import { readNotebook } from "../runner/notebook/read.ts";
import { runNotebooks } from "../runner/run/run-notebooks.ts";
import type { Figure } from "./cluster.bench.ts";
import { median, percentile } from "./stats.ts";

const LABS = fileURLToPath(new URL("../labs/", import.meta.url));
const TARGET_MS = 90_000;
/** Issue 20's target for the whole set, one after another. */
const ALL_TARGET_MS = 60_000;
const NETWORKING = /^0[0-4]-|^0[78]-/;

export async function benchLabs(runs: number): Promise<Figure[]> {
  const totals: number[] = [];
  const networking: number[] = [];
  const perLab = new Map<string, number[]>();
  const startOf = new Map<string, number[]>();
  const kubernetes = new Set<string>();
  for (let i = 0; i < runs; i++) {
    const summary = await runNotebooks([LABS], { backend: new NetnsBackend(), timeoutS: 120, keepGoing: true, outDir: mkdtempSync(join(tmpdir(), "labbook-bench-labs-")), reporter: {} });
    const failed = summary.notebooks.filter((n) => !n.passed).map((n) => basename(n.notebook));
    if (failed.length > 0) throw new Error(`bench: these labs failed, so their times mean nothing: ${failed.join(", ")}`);
    totals.push(summary.durationMs);
    networking.push(summary.notebooks.filter((n) => NETWORKING.test(basename(n.notebook))).reduce((sum, n) => sum + n.durationMs, 0));
    for (const notebook of summary.notebooks) {
      const lab = basename(notebook.notebook);
      perLab.set(lab, [...(perLab.get(lab) ?? []), notebook.durationMs]);
      const cellsMs = notebook.cells.reduce((sum, cell) => sum + cell.durationMs, 0);
      startOf.set(lab, [...(startOf.get(lab) ?? []), notebook.durationMs - cellsMs]);
      if (kubernetesRequired(readNotebook(notebook.notebook), notebook.notebook)) kubernetes.add(lab);
    }
  }
  // The same set two at a time, each on its own cluster (the labs' throughput figures then share the CPU).
  const jobs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const summary = await runNotebooks([LABS], { backend: new NetnsBackend(), timeoutS: 120, keepGoing: true, jobs: 2, outDir: mkdtempSync(join(tmpdir(), "labbook-bench-labs-")), reporter: {} });
    const failed = summary.notebooks.filter((n) => !n.passed).map((n) => basename(n.notebook));
    if (failed.length > 0) throw new Error(`bench: with --jobs 2, these labs failed, so the time means nothing: ${failed.join(", ")}`);
    jobs.push(summary.durationMs);
  }
  return [
    ...[...perLab].flatMap(([lab, times]) => [
      { name: `lab ${lab}${kubernetes.has(lab) ? " (Kubernetes)" : ""}`, medianMs: median(times), p90Ms: percentile(times, 90), runs },
      { name: `lab ${lab}: of which its cluster${kubernetes.has(lab) ? " with Kubernetes" : ""} and kernel starting (the rest is its cells)`, medianMs: median(startOf.get(lab)!), p90Ms: percentile(startOf.get(lab)!, 90), runs },
    ]),
    { name: "networking labs 00-04, 07, 08, one after another", medianMs: median(networking), p90Ms: percentile(networking, 90), runs, target: "<= 90 s", met: median(networking) <= TARGET_MS },
    { name: `all ${perLab.size} labs, one after another (labbook run labs/)`, medianMs: median(totals), p90Ms: percentile(totals, 90), runs, target: "<= 60 s", met: median(totals) <= ALL_TARGET_MS },
    { name: `all ${perLab.size} labs, two at a time (labbook run --jobs 2 labs/)`, medianMs: median(jobs), p90Ms: percentile(jobs, 90), runs },
  ];
}
