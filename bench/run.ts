// npm run bench: prints figures (medians over several runs) and writes them to docs/benchmarks.md. Not a
// test: nothing here fails the build; a missed target is printed as MISS for the reader to judge.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, release, totalmem, type } from "node:os";
import { fileURLToPath } from "node:url";
import { NetnsBackend } from "../runner/backend/netns/driver.ts";
import { processScratch } from "../runner/host/temp-dirs.ts";
import { benchCluster, type Figure } from "./cluster.bench.ts";
import { benchGrade } from "./grade.bench.ts";
import { benchGradeKubernetes } from "./grade-kubernetes.bench.ts";
import { benchKubernetes, benchKubernetesBuild } from "./kubernetes.bench.ts";
import { benchLabs } from "./labs.bench.ts";
import { benchNotebook } from "./notebook.bench.ts";
import { describeMachine, figureRow, formatDate, lastRun, mergeReport, renderHeader, type Machine, type Section } from "./report.ts";
import { benchVagrant } from "./vagrant.bench.ts";

process.env.LABBOOK_STATE_DIR ??= "/run/labbook-bench";
// The benches' notebooks, outputs and Jupyter prefixes: one scratch directory for the run, removed at its end.
const scratch = processScratch("bench");
const REPORT = fileURLToPath(new URL("../docs/benchmarks.md", import.meta.url));

const quick = process.argv.includes("--quick");
// --only cluster,grade runs some sections: grading 100 submissions alone takes minutes.
const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");
const wanted = (section: string) => !only || only.includes(section);
// VMs under software emulation take minutes: only when asked for by name.
const wantedByName = (section: string) => only?.includes(section) === true;
// --vagrant-labs=FILE: the labs' times on VMs from that results.json (see bench/vagrant.bench.ts).
const vagrantLabs = process.argv.find((a) => a.startsWith("--vagrant-labs="))?.slice("--vagrant-labs=".length);
const benches: { name: string; run: boolean; bench: () => Promise<Figure[]> }[] = [
  { name: "cluster", run: wanted("cluster"), bench: () => benchCluster({ clusterRuns: quick ? 3 : 15, commandRuns: quick ? 50 : 300 }) },
  { name: "notebook", run: wanted("notebook"), bench: () => benchNotebook(quick ? 1 : 3) },
  { name: "labs", run: wanted("labs"), bench: () => benchLabs(quick ? 1 : 2) },
  { name: "kubernetes", run: wanted("kubernetes"), bench: () => benchKubernetes(quick ? 2 : 5) },
  // Minutes each (a warm and a cold build): only when asked for by name.
  { name: "kubernetes-build", run: wantedByName("kubernetes-build"), bench: () => benchKubernetesBuild() },
  { name: "grade", run: wanted("grade"), bench: () => benchGrade(quick ? 10 : 50, quick ? 10 : 50, quick ? 4 : 10) },
  { name: "grade-kubernetes", run: wanted("grade-kubernetes"), bench: () => benchGradeKubernetes(quick ? 4 : 20) },
  { name: "vagrant", run: wantedByName("vagrant"), bench: () => benchVagrant(quick ? 30 : 200, vagrantLabs) },
];

function machine(): Machine {
  let os: string | undefined;
  try {
    os = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1];
  } catch {
    os = undefined;
  }
  return { cpus: availableParallelism(), cpuModel: cpus()[0]?.model, memoryBytes: totalmem(), os, kernel: `${type()} ${release()}`, node: process.version };
}

const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
const host = describeMachine(machine());
const sections: Section[] = [];
const figures: Figure[] = [];
let failure: unknown;
try {
  for (const { name, run, bench } of benches.filter((b) => b.run)) {
    const ran = await bench();
    figures.push(...ran);
    sections.push({ name, measured: formatDate(new Date()), command, machine: host, rows: ran.map(figureRow) });
  }
} catch (error) {
  failure = error; // the benches that finished are still written; the error is rethrown below
} finally {
  await new NetnsBackend().downAll();
  rmSync(scratch, { recursive: true, force: true });
}

if (figures.length > 0) {
  const width = Math.max(...figures.map((f) => f.name.length));
  process.stdout.write(`labbook bench (${new Date().toISOString()}, ${process.platform} ${process.arch}, node ${process.version})\n\n`);
  process.stdout.write(`${"what".padEnd(width)}  ${"median".padStart(10)}  ${"p90".padStart(10)}  runs  target\n`);
  for (const f of figures) {
    const verdict = f.met === undefined ? "" : `${f.met ? "met" : "MISS"}: ${f.target}`;
    const unit = f.unit === undefined || f.unit === "ms" ? " ms" : f.unit === "MB" ? " MB" : f.unit;
    process.stdout.write(`${f.name.padEnd(width)}  ${`${f.medianMs.toFixed(2)}${unit}`.padStart(10)}  ${`${f.p90Ms.toFixed(2)}${unit}`.padStart(10)}  ${String(f.runs).padStart(4)}  ${verdict}\n`);
  }
}

if (sections.length > 0) {
  const existing = existsSync(REPORT) ? readFileSync(REPORT, "utf8") : undefined;
  writeFileSync(REPORT, mergeReport(existing, renderHeader(lastRun(formatDate(new Date()), command, host)), sections));
  process.stdout.write(`\nwrote ${REPORT}: ${sections.map((s) => s.name).join(", ")}\n`);
} else if (failure === undefined) {
  process.stdout.write(`no bench ran (--only takes ${benches.map((b) => b.name).join(", ")}); ${REPORT} is unchanged\n`);
}
if (failure !== undefined) throw failure;
