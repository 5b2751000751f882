// The result of a notebook whose run could not start (its cluster or kernel) or not go on: reports
// and the gradebook show it as that notebook's error, and the other notebooks still run.
import type { NotebookRunResult } from "../notebook/results.ts";

export function infrastructureErrorResult(path: string, backend: string, message: string): NotebookRunResult {
  return {
    notebook: path,
    executedNotebook: "",
    title: path,
    backend,
    cluster: "",
    startedAt: new Date().toISOString(),
    durationMs: 0,
    passed: false,
    cells: [],
    infrastructureError: message,
  };
}
