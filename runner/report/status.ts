// How the reporters name and mark cell and notebook outcomes, so they all agree.
import type { CellStatus, NotebookRunResult } from "../notebook/results.ts";

/** Timed-out and kernel-died cells did not pass either: they count as failures in every total. */
export function isFailure(status: CellStatus): boolean {
  return status === "failed" || status === "timed-out" || status === "kernel-died";
}

export const STATUS_MARK: Record<CellStatus, string> = {
  passed: "✔",
  failed: "✘",
  "timed-out": "⏱",
  "kernel-died": "☠",
  skipped: "-",
  "not-run": " ",
};

export const STATUS_LABEL: Record<CellStatus, string> = {
  passed: "passed",
  failed: "failed",
  "timed-out": "timed out",
  "kernel-died": "kernel died",
  skipped: "skipped",
  "not-run": "not run",
};

export type NotebookOutcome = "passed" | "failed" | "error";

/** "error" when the run could not start or finish: the lab's result is unknown, not failed. */
export function notebookOutcome(result: NotebookRunResult): NotebookOutcome {
  if (result.infrastructureError !== undefined) return "error";
  return result.passed ? "passed" : "failed";
}

export const OUTCOME_LABEL: Record<NotebookOutcome, string> = { passed: "passed", failed: "failed", error: "error" };
