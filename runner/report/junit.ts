import path from "node:path";
import type { CellResult, NotebookRunResult, RunSummary } from "../notebook/results.ts";
import { escapeAttribute, escapeMarkup } from "./escape.ts";
import { cellErrorSummary, failsBeyondChecks } from "./failures.ts";
import { writeReportFile } from "./files.ts";
import { stripAnsi } from "./text.ts";
import type { Reporter } from "./types.ts";

/**
 * junit.xml: one testsuite per notebook, one testcase per check, plus one per code cell
 * that has no checks or that broke beyond them (threw, timed out, lost its kernel), so
 * that every failure shows up in the CI system's test view.
 */
export function junitReporter(outDir: string): Reporter {
  return {
    async onRunEnd(summary: RunSummary) {
      return [await writeReportFile(outDir, "junit.xml", renderJunit(summary))];
    },
  };
}

interface TestCase {
  name: string;
  durationMs: number;
  /** Absent when the test passed. */
  outcome?: { kind: "failure" | "error" | "skipped"; type?: string; message: string; details?: string };
}

export function renderJunit(summary: RunSummary): string {
  const suites = summary.notebooks.map((notebook) => ({ notebook, cases: testCases(notebook) }));
  const all = suites.flatMap((s) => s.cases);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="labbook"${countAttributes(all)} time="${seconds(summary.durationMs)}">`,
    ...suites.flatMap(({ notebook, cases }) => renderSuite(notebook, cases)),
    "</testsuites>",
  ];
  return `${lines.join("\n")}\n`;
}

function testCases(notebook: NotebookRunResult): TestCase[] {
  const cases: TestCase[] = [];
  if (notebook.infrastructureError !== undefined) {
    cases.push({ name: "infrastructure", durationMs: notebook.durationMs, outcome: { kind: "error", type: "infrastructure", message: notebook.infrastructureError } });
  }
  for (const cell of notebook.cells) {
    if (cell.status === "not-run") continue;
    for (const check of cell.checks) {
      const failure = check.passed ? undefined : { kind: "failure" as const, type: "check", message: check.message, details: `${check.message}\n(${check.attempts} attempt${check.attempts === 1 ? "" : "s"})` };
      cases.push({ name: `${cell.id}: ${check.name}`, durationMs: check.durationMs, outcome: failure });
    }
    if (cell.checks.length === 0 || failsBeyondChecks(cell)) cases.push({ name: `${cell.id}: ${cell.title}`, durationMs: cell.durationMs, outcome: cellOutcome(cell) });
  }
  return cases;
}

function cellOutcome(cell: CellResult): TestCase["outcome"] {
  switch (cell.status) {
    case "skipped":
      return { kind: "skipped", message: cell.skipReason ?? cell.error?.message ?? "skipped" };
    case "failed":
    case "timed-out":
    case "kernel-died": {
      // A cell that threw failed its test; one the kernel could not finish is an error of the run.
      const kind = cell.status === "failed" ? "failure" : "error";
      const details = [cellErrorSummary(cell), ...(cell.error?.traceback ?? [])].join("\n");
      return { kind, type: cell.error?.name ?? cell.status, message: cellErrorSummary(cell), details };
    }
    default:
      return undefined;
  }
}

function renderSuite(notebook: NotebookRunResult, cases: TestCase[]): string[] {
  const name = path.relative(process.cwd(), notebook.notebook) || notebook.notebook;
  const open = `  <testsuite name="${escapeAttribute(name)}"${countAttributes(cases)} time="${seconds(notebook.durationMs)}" timestamp="${escapeAttribute(notebook.startedAt)}">`;
  const properties = [
    "    <properties>",
    `      <property name="title" value="${escapeAttribute(notebook.title)}"/>`,
    `      <property name="backend" value="${escapeAttribute(notebook.backend)}"/>`,
    `      <property name="cluster" value="${escapeAttribute(notebook.cluster)}"/>`,
    "    </properties>",
  ];
  return [open, ...properties, ...cases.map((c) => renderCase(name, c)), "  </testsuite>"];
}

function renderCase(classname: string, testCase: TestCase): string {
  const open = `    <testcase classname="${escapeAttribute(classname)}" name="${escapeAttribute(testCase.name)}" time="${seconds(testCase.durationMs)}"`;
  const outcome = testCase.outcome;
  if (!outcome) return `${open}/>`;
  const message = escapeAttribute(stripAnsi(outcome.message));
  const body =
    outcome.kind === "skipped"
      ? `<skipped message="${message}"/>`
      : `<${outcome.kind} message="${message}" type="${escapeAttribute(outcome.type ?? outcome.kind)}">${escapeMarkup(stripAnsi(outcome.details ?? outcome.message))}</${outcome.kind}>`;
  return `${open}>\n      ${body}\n    </testcase>`;
}

function countAttributes(cases: TestCase[]): string {
  const count = (kind: string) => cases.filter((c) => c.outcome?.kind === kind).length;
  return ` tests="${cases.length}" failures="${count("failure")}" errors="${count("error")}" skipped="${count("skipped")}"`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
