// The whole lab set, as `labbook run labs/` runs it: one lab after another, each on a fresh
// cluster and kernel. Target (issue 4): the networking labs (00-04, 07, 08) in at most 90 s on 2 cores.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { NetnsBackend } from "../runner/backend/netns/driver.ts";
import { runNotebooks } from "../runner/run/run-notebooks.ts";
import type { Figure } from "./cluster.bench.ts";
import { median, percentile } from "./stats.ts";

const LABS = fileURLToPath(new URL("../labs/", import.meta.url));
const TARGET_MS = 90_000;
const NETWORKING = /^0[0-4]-|^0[78]-/;

export async function benchLabs(runs: number): Promise<Figure[]> {
  const totals: number[] = [];
  const networking: number[] = [];
  const perLab = new Map<string, number[]>();
  for (let i = 0; i < runs; i++) {
    const summary = await runNotebooks([LABS], { backend: new NetnsBackend(), timeoutS: 120, keepGoing: true, outDir: mkdtempSync(join(tmpdir(), "labbook-bench-labs-")), reporter: {} });
    const failed = summary.notebooks.filter((n) => !n.passed).map((n) => basename(n.notebook));
    if (failed.length > 0) throw new Error(`bench: these labs failed, so their times mean nothing: ${failed.join(", ")}`);
    totals.push(summary.durationMs);
    networking.push(summary.notebooks.filter((n) => NETWORKING.test(basename(n.notebook))).reduce((sum, n) => sum + n.durationMs, 0));
    for (const notebook of summary.notebooks) perLab.set(basename(notebook.notebook), [...(perLab.get(basename(notebook.notebook)) ?? []), notebook.durationMs]);
  }
  return [
    ...[...perLab].map(([lab, times]) => ({ name: `lab ${lab}`, medianMs: median(times), p90Ms: percentile(times, 90), runs })),
    { name: "networking labs 00-04, 07, 08, one after another", medianMs: median(networking), p90Ms: percentile(networking, 90), runs, target: "<= 90 s", met: median(networking) <= TARGET_MS },
    { name: `all ${perLab.size} labs, one after another (labbook run labs/)`, medianMs: median(totals), p90Ms: percentile(totals, 90), runs },
  ];
}
