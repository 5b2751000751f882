// What a notebook run produced: the data every reporter reads. Plain JSON-able objects.

export type CellRole = "setup" | "step" | "exercise" | "solution" | "check" | "hidden-check" | "grader-setup" | "teardown";

/** One check, as the SDK recorded it in the cell's structured output. */
export interface CheckOutcome {
  name: string;
  passed: boolean;
  /** Why it passed or failed, with what was observed. */
  message: string;
  attempts: number;
  durationMs: number;
  /** Points if graded; undefined for ungraded checks. */
  points?: number;
}

export type CellStatus =
  | "passed" // ran without error, and every check in it passed
  | "failed" // a check in it failed, or it threw
  | "timed-out" // ran past its timeout; the kernel was interrupted or restarted
  | "kernel-died" // the kernel process exited during the cell
  | "skipped" // not run: a requirement is missing, or an earlier required step failed
  | "not-run"; // markdown and raw cells

export interface CellResult {
  /** Index in the notebook's cells array. */
  index: number;
  /** metadata.labbook.id, else the nbformat cell id. */
  id: string;
  role: CellRole;
  /** First line of the source, for reports. */
  title: string;
  status: CellStatus;
  durationMs: number;
  checks: CheckOutcome[];
  /** For failed/timed-out/kernel-died: the error name and message; for skipped: the reason. */
  error?: { name: string; message: string; traceback: string[] };
  skipReason?: string;
  executionCount?: number;
}

export interface NotebookRunResult {
  /** Path of the source notebook. */
  notebook: string;
  /** Path of the executed notebook that was written. */
  executedNotebook: string;
  title: string;
  backend: string;
  cluster: string;
  startedAt: string;
  durationMs: number;
  /** True when every cell passed or was legitimately skipped. */
  passed: boolean;
  cells: CellResult[];
  /** Set when the run could not even start or finish (bad notebook, kernel would not start...). */
  infrastructureError?: string;
}

export interface RunSummary {
  startedAt: string;
  durationMs: number;
  notebooks: NotebookRunResult[];
}
