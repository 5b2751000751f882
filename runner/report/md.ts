import { appendFile } from "node:fs/promises";
import type { RunSummary } from "../notebook/results.ts";
import { formatTally, tallyCells, tallyNotebooks } from "./counts.ts";
import { listFailures } from "./failures.ts";
import { writeReportFile } from "./files.ts";
import { notebookOutcome, type NotebookOutcome } from "./status.ts";
import { formatDuration, oneLine } from "./text.ts";
import type { Reporter } from "./types.ts";

const OUTCOME_EMOJI: Record<NotebookOutcome, string> = { passed: "✅", failed: "❌", error: "💥" };
const MAX_MESSAGE = 200;

/**
 * summary.md: a table of notebooks and a list of failures, short enough for a CI job
 * summary. Under GitHub Actions (GITHUB_STEP_SUMMARY set) it is appended there too.
 */
export function markdownReporter(outDir: string): Reporter {
  return {
    async onRunEnd(summary: RunSummary) {
      const text = renderMarkdownSummary(summary);
      const written = [await writeReportFile(outDir, "summary.md", text)];
      const stepSummary = process.env.GITHUB_STEP_SUMMARY;
      if (stepSummary) {
        await appendFile(stepSummary, text);
        written.push(stepSummary);
      }
      return written;
    },
  };
}

export function renderMarkdownSummary(summary: RunSummary): string {
  const lines = [
    `### labbook: ${formatTally(tallyNotebooks(summary.notebooks))} (${formatDuration(summary.durationMs)})`,
    "",
    "| | Notebook | Passed | Failed | Skipped | Duration |",
    "|---|---|--:|--:|--:|--:|",
  ];
  for (const notebook of summary.notebooks) {
    const tally = tallyCells(notebook.cells);
    lines.push(`| ${OUTCOME_EMOJI[notebookOutcome(notebook)]} | ${inline(notebook.title)} | ${tally.passed} | ${tally.failed} | ${tally.skipped} | ${formatDuration(notebook.durationMs)} |`);
  }
  const failures = summary.notebooks.flatMap(listFailures);
  if (failures.length > 0) {
    lines.push("", "**Failures**", "");
    for (const f of failures) {
      const where = f.cellId === undefined ? "" : ` \`${f.cellId.replace(/`/g, "")}\``;
      lines.push(`- ${inline(f.notebook)}${where} ${inline(f.what)}: ${inline(oneLine(f.message, MAX_MESSAGE))}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

// Titles and messages are the notebook author's and the cluster's text: keep them from
// turning into markup, table columns or HTML (GitHub renders HTML in summaries).
function inline(text: string): string {
  return oneLine(text, Number.MAX_SAFE_INTEGER).replace(/[\\`*_[\]<>|&~]/g, (c) => `\\${c}`);
}
