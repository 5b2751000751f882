// One self-contained page for one notebook run: no scripts, no stylesheet or image from elsewhere.
import type { Cell, CodeCell, Notebook } from "../notebook/types.ts";
import { sourceText } from "../notebook/types.ts";
import type { CellResult, NotebookRunResult } from "../notebook/results.ts";
import { formatTally, tallyCells } from "./counts.ts";
import { escapeMarkup } from "./escape.ts";
import { cellErrorSummary } from "./failures.ts";
import { renderOutput } from "./html-outputs.ts";
import { PAGE_STYLE } from "./html-style.ts";
import { renderMarkdown } from "./markdown-html.ts";
import { notebookOutcome, OUTCOME_LABEL, STATUS_LABEL, STATUS_MARK } from "./status.ts";
import { formatDuration, stripAnsi } from "./text.ts";

/**
 * `notebook` is the executed notebook; without it (the run broke before writing one)
 * the page lists the cell results alone, with `missingReason` saying why.
 */
export function renderNotebookPage(result: NotebookRunResult, notebook: Notebook | undefined, missingReason?: string): string {
  const resultsByIndex = new Map(result.cells.map((cell) => [cell.index, cell]));
  const body = notebook
    ? notebook.cells.map((cell, index) => renderCell(cell, resultsByIndex.get(index))).join("\n")
    : [`<p class="note">The executed notebook is not available${missingReason ? `: ${escapeMarkup(missingReason)}` : ""}.</p>`, ...result.cells.map((cell) => renderResultOnly(cell))].join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeMarkup(result.title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
${renderHeader(result)}
<main>
${body}
</main>
</body>
</html>
`;
}

function renderHeader(result: NotebookRunResult): string {
  const outcome = notebookOutcome(result);
  const facts = [
    formatTally(tallyCells(result.cells)),
    formatDuration(result.durationMs),
    `backend ${result.backend}`,
    `cluster ${result.cluster}`,
    `started ${result.startedAt}`,
    result.notebook,
  ];
  return [
    "<header>",
    `<h1>${escapeMarkup(result.title)}</h1>`,
    `<p class="summary"><span class="badge outcome-${outcome}">${OUTCOME_LABEL[outcome]}</span> ${facts.map(escapeMarkup).join(" · ")}</p>`,
    result.infrastructureError !== undefined ? `<pre class="infrastructure-error">${escapeMarkup(stripAnsi(result.infrastructureError))}</pre>` : "",
    "</header>",
  ].join("\n");
}

function renderCell(cell: Cell, result: CellResult | undefined): string {
  switch (cell.cell_type) {
    case "markdown":
      return `<section class="cell markdown-cell">${renderMarkdown(sourceText(cell.source))}</section>`;
    case "raw":
      return `<section class="cell raw-cell"><pre>${escapeMarkup(sourceText(cell.source))}</pre></section>`;
    case "code":
      return renderCodeCell(cell, result);
  }
}

function renderCodeCell(cell: CodeCell, result: CellResult | undefined): string {
  const status = result?.status ?? "not-run";
  const outputs = cell.outputs.map(renderOutput);
  // A timeout or a dead kernel leaves no error output behind: say what happened.
  const hasErrorOutput = cell.outputs.some((output) => output.output_type === "error");
  return [
    `<section class="cell code-cell status-${status}" id="cell-${escapeMarkup(result?.id ?? cell.id)}">`,
    cellHeading(result, cell.execution_count),
    `<pre class="source"><code>${escapeMarkup(sourceText(cell.source))}</code></pre>`,
    outputs.length ? `<div class="outputs">\n${outputs.join("\n")}\n</div>` : "",
    result && !hasErrorOutput ? cellProblem(result) : "",
    "</section>",
  ]
    .filter(Boolean)
    .join("\n");
}

function renderResultOnly(result: CellResult): string {
  if (result.status === "not-run") return "";
  return [
    `<section class="cell code-cell status-${result.status}" id="cell-${escapeMarkup(result.id)}">`,
    cellHeading(result, result.executionCount ?? null),
    `<p class="cell-title">${escapeMarkup(result.title)}</p>`,
    cellProblem(result),
    "</section>",
  ]
    .filter(Boolean)
    .join("\n");
}

function cellHeading(result: CellResult | undefined, executionCount: number | null): string {
  const status = result?.status ?? "not-run";
  const parts = [
    `<span class="badge status-${status}">${STATUS_MARK[status]} ${STATUS_LABEL[status]}</span>`,
    result ? `<span class="cell-id">${escapeMarkup(result.id)}</span>` : "",
    result ? `<span class="cell-role">${escapeMarkup(result.role)}</span>` : "",
    result && status !== "skipped" && status !== "not-run" ? `<span class="cell-duration">${formatDuration(result.durationMs)}</span>` : "",
    executionCount !== null ? `<span class="execution-count">[${executionCount}]</span>` : "",
  ];
  return `<div class="cell-heading">${parts.filter(Boolean).join(" ")}</div>`;
}

function cellProblem(result: CellResult): string {
  if (result.status === "skipped") return `<p class="skip-reason">Skipped${result.skipReason ? `: ${escapeMarkup(result.skipReason)}` : ""}</p>`;
  if (result.status === "timed-out" || result.status === "kernel-died" || (result.status === "failed" && result.error)) {
    return `<pre class="cell-error">${escapeMarkup(stripAnsi(cellErrorSummary(result)))}</pre>`;
  }
  return "";
}
