import type { CellResult, CellRole, CheckOutcome, NotebookRunResult, RunSummary } from "../notebook/results.ts";

export interface CellStart {
  notebook: string;
  index: number;
  id: string;
  role: CellRole;
  title: string;
}

/**
 * Receives a run's events as they happen. Every method is optional: a file reporter
 * only needs onRunEnd, the console reporter uses all of them.
 */
export interface Reporter {
  onRunStart?(info: { notebooks: string[] }): void;
  onNotebookStart?(info: { notebook: string; title: string; cells: number; cluster: string }): void;
  onCellStart?(cell: CellStart): void;
  onCheck?(check: CheckOutcome & { notebook: string; cellIndex: number }): void;
  onCellEnd?(result: CellResult & { notebook: string }): void;
  onNotebookEnd?(result: NotebookRunResult): void;
  /** Writes files; resolves with the paths it wrote. */
  onRunEnd?(summary: RunSummary): Promise<string[]> | string[];
}

export interface ReporterOptions {
  /** Where file reporters write. */
  outDir: string;
  /** Where the console reporter writes (process.stdout by default). */
  stream?: NodeJS.WritableStream;
}
