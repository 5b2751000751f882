// docs/benchmarks.md, as `npm run bench` writes it: a header (when, what command, which machine), then one
// section per bench between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`. A run rewrites the header and
// the sections of the benches it ran, and keeps the others as they were. Pure: bench/run.ts does the I/O.
import type { Figure } from "./cluster.bench.ts";

/** The benches, in the order their sections appear; `kubernetes-build` and `vagrant` run only when named. */
export const BENCHES = ["cluster", "notebook", "labs", "kubernetes", "kubernetes-build", "grade", "grade-kubernetes", "vagrant"] as const;
const BY_NAME_ONLY: readonly string[] = ["kubernetes-build", "vagrant"];

export const TITLES: Record<string, string> = {
  cluster: "The embedded cluster",
  notebook: "One notebook: labbook run against nbconvert, papermill and nbclient; the kernel's start",
  labs: "The lab set",
  kubernetes: "Kubernetes on the embedded cluster",
  "kubernetes-build": "The Kubernetes build",
  grade: "Grading",
  vagrant: "The Vagrant backend, under software emulation",
};

export interface Machine {
  /** Usable CPUs, as `nproc` counts them. */
  cpus: number;
  cpuModel?: string;
  memoryBytes: number;
  /** e.g. "Debian GNU/Linux 12 (bookworm)". */
  os?: string;
  /** e.g. "Linux 6.18.44". */
  kernel: string;
  /** e.g. "v24.21.0". */
  node: string;
}

/** One table row, already formatted. */
export interface Row {
  what: string;
  median: string;
  p90: string;
  runs: string;
  target: string;
}

export interface Section {
  /** The bench's name, as `--only=` takes it. */
  name: string;
  /** When it was measured, as formatDate gives it (or a date written by hand). */
  measured: string;
  /** The command that measured it. */
  command: string;
  /** The machine it ran on, as describeMachine gives it. */
  machine: string;
  rows: Row[];
  /** Lines after the table. */
  notes?: string[];
}

export function formatDate(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function describeMachine(m: Machine): string {
  const cores = `${m.cpus} ${m.cpus === 1 ? "core" : "cores"}${m.cpuModel ? ` (${m.cpuModel.trim()})` : ""}`;
  const memory = `${(m.memoryBytes / 2 ** 30).toFixed(1)} GB of memory`;
  return [cores, memory, m.os, m.kernel, `Node ${m.node}`].filter((part) => part !== undefined && part !== "").join(", ");
}

function formatMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 999.5) return `${ms.toFixed(0)} ms`;
  if (ms < 9_995) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** A figure's value in its unit: milliseconds as ms, s or min; ratios as ×; rates per minute; MB, or GB from 1024 MB. */
export function formatValue(value: number, unit: Figure["unit"]): string {
  if (!Number.isFinite(value)) return "n/a";
  switch (unit) {
    case "x":
      return `${value.toFixed(2)}×`;
    case "/min":
      return `${value.toFixed(1)} per minute`;
    case "MB":
      return value < 1024 ? `${Math.round(value)} MB` : `${(value / 1024).toFixed(2)} GB`;
    default:
      return formatMs(value);
  }
}

export function figureRow(f: Figure): Row {
  const single = f.runs <= 1;
  return {
    what: f.name.trim(),
    median: formatValue(f.medianMs, f.unit),
    p90: single ? "" : formatValue(f.p90Ms, f.unit),
    runs: String(f.runs),
    target: f.target === undefined ? "" : f.met === undefined ? f.target : `${f.met ? "met" : "**MISS**"}: ${f.target}`,
  };
}

function cell(text: string): string {
  return text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

export function renderTable(rows: Row[]): string {
  const lines = ["| what | median | p90 | runs | target |", "| --- | --- | --- | --- | --- |"];
  for (const r of rows) lines.push(`| ${[r.what, r.median, r.p90, r.runs, r.target].map(cell).join(" | ")} |`);
  return lines.join("\n");
}

export function renderSection(s: Section): string {
  const title = TITLES[s.name] ?? s.name;
  const parts = [
    `<!-- bench:${s.name} -->`,
    `## ${title} (\`${s.name}\`)`,
    "",
    `Measured ${s.measured} with \`${s.command}\`, on ${s.machine}.`,
    "",
    renderTable(s.rows),
  ];
  if (s.notes && s.notes.length > 0) parts.push("", ...s.notes);
  parts.push(`<!-- /bench:${s.name} -->`);
  return parts.join("\n");
}

/** The sentence after "Last run:" for a run at `date` of `command` on `machine`. */
export function lastRun(date: string, command: string, machine: string): string {
  return `${date}, \`${command}\`, on ${machine}.`;
}

export function renderHeader(lastRunText: string): string {
  return [
    "# Benchmarks",
    "",
    "<!-- Written by `npm run bench` (bench/run.ts, bench/report.ts). Do not edit by hand: the next run rewrites it. -->",
    "",
    "This file is generated by `npm run bench` (as root), not written by hand. A run rewrites the sections of the",
    "benches it ran and keeps the others, so each section says when, with what command and on what machine it was",
    "measured.",
    "",
    `Last run: ${lastRunText}`,
    "",
    "Figures are medians over repeated runs, with the 90th percentile where there were several. Targets are figures",
    "to read, not timed tests: a missed one shows as **MISS**. `npm run bench` runs",
    `${BENCHES.filter((b) => !BY_NAME_ONLY.includes(b)).join(", ")}; \`--only=NAME,...\` runs some of them. ${BY_NAME_ONLY.map((b) => `\`${b}\``).join(" and ")}`,
    "take minutes and run only when named. `--quick` runs fewer rounds.",
    "",
    "What the figures mean, and how they moved: [benchmark-notes.md](benchmark-notes.md).",
  ].join("\n");
}

const SECTION = /<!-- bench:([\w.-]+) -->\n[\s\S]*?\n<!-- \/bench:\1 -->/g;

/** The sections of a file this module wrote: name -> the whole block, markers included, in file order. */
export function parseSections(text: string): Map<string, string> {
  const sections = new Map<string, string>();
  for (const match of text.replace(/\r\n/g, "\n").matchAll(SECTION)) sections.set(match[1]!, match[0]);
  return sections;
}

/**
 * The new file: `header`, then every section, in BENCHES order (names it does not know after them, in the
 * order they had). A section in `fresh` replaces the one of the same name in `existing`; the others are kept.
 */
export function mergeReport(existing: string | undefined, header: string, fresh: Section[]): string {
  const sections = existing === undefined ? new Map<string, string>() : parseSections(existing);
  for (const s of fresh) sections.set(s.name, renderSection(s));
  const known: readonly string[] = BENCHES;
  const names = [...known.filter((n) => sections.has(n)), ...[...sections.keys()].filter((n) => !known.includes(n))];
  return `${[header, ...names.map((n) => sections.get(n)!)].join("\n\n")}\n`;
}
