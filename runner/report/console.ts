import type { CellResult, CheckOutcome, NotebookRunResult, RunSummary } from "../notebook/results.ts";
import { formatTally, tallyCells, tallyNotebooks } from "./counts.ts";
import { cellErrorSummary, failsBeyondChecks } from "./failures.ts";
import { notebookOutcome, OUTCOME_LABEL, STATUS_LABEL, STATUS_MARK } from "./status.ts";
import { formatDuration, indentContinuation } from "./text.ts";
import type { CellStart, Reporter } from "./types.ts";

const CLEAR_LINE = "\r\u001b[2K";
const CELL_INDENT = "  ";
const CHECK_INDENT = "      ";

type Paint = (color: keyof typeof SGR, text: string) => string;
const SGR = { green: 32, red: 31, yellow: 33, magenta: 35, dim: 2, bold: 1 } as const;
const STATUS_COLOR: Record<CellResult["status"], keyof typeof SGR> = {
  passed: "green",
  failed: "red",
  "timed-out": "yellow",
  "kernel-died": "magenta",
  skipped: "dim",
  "not-run": "dim",
};

interface RunningCell {
  cell: CellStart;
  startedAt: number;
  /** Whether a heading was printed for it, so its checks sit under a line naming it. */
  headed: boolean;
}

/**
 * Live progress for a person or a CI log. On a terminal a "running cell" line ticks while
 * a cell runs and is replaced when it ends; elsewhere only whole lines are written, since
 * CI logs show \r and escape codes as garbage.
 */
export class ConsoleReporter implements Reporter {
  private readonly tty: boolean;
  private readonly paint: Paint;
  private cellCount = 0;
  private running: RunningCell | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private progressShown = false;

  private readonly stream: NodeJS.WritableStream;

  constructor(stream: NodeJS.WritableStream) {
    this.stream = stream;
    this.tty = (stream as { isTTY?: boolean }).isTTY === true;
    const colors = this.tty && !process.env.NO_COLOR;
    this.paint = colors ? (color, text) => `\u001b[${SGR[color]}m${text}\u001b[0m` : (_color, text) => text;
  }

  onNotebookStart(info: { notebook: string; title: string; cells: number; cluster: string }): void {
    this.cellCount = info.cells;
    this.line(`${this.paint("bold", info.title)} ${this.paint("dim", `(${info.notebook}, cluster ${info.cluster})`)}`);
  }

  onCellStart(cell: CellStart): void {
    this.running = { cell, startedAt: Date.now(), headed: false };
    if (!this.tty) return;
    this.drawProgress();
    clearInterval(this.ticker);
    this.ticker = setInterval(() => this.drawProgress(), 1000);
    this.ticker.unref();
  }

  onCheck(check: CheckOutcome & { notebook: string; cellIndex: number }): void {
    const running = this.running?.cell.index === check.cellIndex ? this.running : undefined;
    if (running && !running.headed) {
      running.headed = true;
      this.line(`${CELL_INDENT}${this.paint("dim", "▸")} ${running.cell.title}`);
    }
    const mark = check.passed ? this.paint("green", "✔") : this.paint("red", "✘");
    const text = check.passed ? check.name : `${check.name}: ${check.message}`;
    this.line(`${CHECK_INDENT}${mark} ${indentContinuation(text, `${CHECK_INDENT}  `)}`);
  }

  onCellEnd(result: CellResult & { notebook: string }): void {
    if (this.running?.cell.index === result.index) this.stopProgress();
    if (result.status === "not-run") return;
    const mark = this.paint(STATUS_COLOR[result.status], STATUS_MARK[result.status]);
    const detail =
      result.status === "skipped"
        ? `skipped${result.skipReason ? `: ${result.skipReason}` : ""}`
        : `${result.status === "passed" || result.status === "failed" ? "" : `${STATUS_LABEL[result.status]}, `}${formatDuration(result.durationMs)}`;
    this.line(`${CELL_INDENT}${mark} ${result.title} ${this.paint("dim", `(${detail})`)}`);
    // Failed checks were printed as they happened; say why only when they do not explain it.
    if (failsBeyondChecks(result)) this.line(`${CHECK_INDENT}${indentContinuation(this.paint("red", cellErrorSummary(result)), `${CHECK_INDENT}`)}`);
  }

  onNotebookEnd(_result: NotebookRunResult): void {
    this.stopProgress();
  }

  onRunEnd(summary: RunSummary): string[] {
    this.stopProgress();
    this.line("");
    for (const notebook of summary.notebooks) {
      const outcome = notebookOutcome(notebook);
      const mark = outcome === "passed" ? this.paint("green", "✔") : this.paint("red", "✘");
      const tally = formatTally(tallyCells(notebook.cells));
      this.line(`${mark} ${notebook.title}: ${OUTCOME_LABEL[outcome]}, ${tally} (${formatDuration(notebook.durationMs)})`);
      if (notebook.infrastructureError !== undefined) this.line(`${CELL_INDENT}${indentContinuation(notebook.infrastructureError, CELL_INDENT)}`);
    }
    this.line(this.paint("dim", `${summary.notebooks.length} notebook${summary.notebooks.length === 1 ? "" : "s"} in ${formatDuration(summary.durationMs)}`));
    // Exactly this form, uncoloured: CI systems grep the last line for it.
    this.line(formatTally(tallyNotebooks(summary.notebooks)));
    return [];
  }

  private line(text: string): void {
    const redraw = this.progressShown;
    if (redraw) this.stream.write(CLEAR_LINE);
    this.stream.write(`${text}\n`);
    this.progressShown = false;
    if (redraw) this.drawProgress();
  }

  private drawProgress(): void {
    if (!this.running) return;
    const { cell, startedAt } = this.running;
    const text = `running cell ${cell.index + 1}/${this.cellCount}: ${cell.title} (${formatDuration(Date.now() - startedAt)})`;
    // Longer than the terminal is wide, it would wrap, and \r would only go back one row.
    const width = (this.stream as { columns?: number }).columns ?? 80;
    const fitted = text.length < width ? text : `${text.slice(0, Math.max(0, width - 2))}…`;
    this.stream.write(`${CLEAR_LINE}${this.paint("dim", fitted)}`);
    this.progressShown = true;
  }

  private stopProgress(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
    this.running = undefined;
    if (this.progressShown) this.stream.write(CLEAR_LINE);
    this.progressShown = false;
  }
}
