// A run of two notebooks with every kind of cell outcome, and the executed notebook of the first.
import { CHECK_MIME, type Notebook } from "../../runner/notebook/types.ts";
import type { RunSummary } from "../../runner/notebook/results.ts";

export const ROUTING = "labs/routing/routing.ipynb";
export const BROKEN = "labs/broken/broken.ipynb";

/** 2 passed, 3 failed (a failed check, a timeout, a broken notebook), 1 skipped. */
export function runSummary(executedNotebook = "/nonexistent/routing.executed.ipynb"): RunSummary {
  return {
    startedAt: "2025-01-02T03:04:05.000Z",
    durationMs: 42_000,
    notebooks: [
      {
        notebook: ROUTING,
        executedNotebook,
        title: "Routing between nodes",
        backend: "netns",
        cluster: "lab",
        startedAt: "2025-01-02T03:04:05.000Z",
        durationMs: 40_000,
        passed: false,
        cells: [
          { index: 0, id: "intro", role: "step", title: "# Routing lab", status: "not-run", durationMs: 0, checks: [] },
          { index: 1, id: "setup", role: "setup", title: "const html = '<script>'", status: "passed", durationMs: 1200, checks: [], executionCount: 1 },
          {
            index: 2,
            id: "check-routes",
            role: "check",
            title: "await check routes",
            status: "failed",
            durationMs: 3400,
            executionCount: 2,
            checks: [
              { name: "node1 reaches node2", passed: true, message: "ping ok", attempts: 1, durationMs: 300 },
              { name: "route to 10.0.0.0/8", passed: false, message: 'no route <via> "node2" & \u0007bell\nsecond line', attempts: 3, durationMs: 3000 },
            ],
          },
          {
            index: 3,
            id: "slow",
            role: "step",
            title: "await sleep(forever)",
            status: "timed-out",
            durationMs: 30_000,
            checks: [],
            error: { name: "Timeout", message: "cell ran past 30 s", traceback: [] },
          },
          { index: 4, id: "needs-ipv6", role: "exercise", title: "ipv6 exercise", status: "skipped", durationMs: 0, checks: [], skipReason: "requires ipv6" },
          {
            index: 5,
            id: "graded",
            role: "hidden-check",
            title: "graded check",
            status: "passed",
            durationMs: 500,
            checks: [{ name: "all nodes ready", passed: true, message: "3/3 ready", attempts: 1, durationMs: 500, points: 2 }],
          },
        ],
      },
      {
        notebook: BROKEN,
        executedNotebook: "",
        title: "Broken lab",
        backend: "netns",
        cluster: "lab",
        startedAt: "2025-01-02T03:04:45.000Z",
        durationMs: 2000,
        passed: false,
        cells: [],
        infrastructureError: "kernel would not start: tslab not found",
      },
    ],
  };
}

export function executedNotebook(): Notebook {
  const failedCheck = { name: "route to 10.0.0.0/8", passed: false, message: "no route <via> node2", attempts: 3, durationMs: 3000 };
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      {
        cell_type: "markdown",
        id: "intro",
        metadata: {},
        source: ["# Routing lab\n", "\n", "Packets need a **route** and `ip route` shows it.\n", "\n", "- see [the docs](https://example.com/docs)\n", "- <b>not bold</b>\n", "- [bad](javascript:alert)\n"],
      },
      {
        cell_type: "code",
        id: "setup",
        metadata: {},
        source: "const html = '<script>alert(1)</script>';",
        execution_count: 1,
        outputs: [
          { output_type: "stream", name: "stdout", text: ["hello <world>\n"] },
          { output_type: "display_data", metadata: {}, data: { "image/png": "iVBORw0KGgo=", "text/plain": "<Figure>" } },
        ],
      },
      {
        cell_type: "code",
        id: "check-routes",
        metadata: {},
        source: "await checkRoutes()",
        execution_count: 2,
        outputs: [
          {
            output_type: "display_data",
            metadata: {},
            data: { [CHECK_MIME]: failedCheck, "text/html": "<div>sdk html</div>", "text/plain": "✘ route to 10.0.0.0/8" },
          },
          { output_type: "display_data", metadata: {}, data: { "text/html": ["<table class=\"sdk\">", "<tr><td>trusted</td></tr></table>"], "text/plain": "table" } },
          { output_type: "error", ename: "CheckFailed", evalue: "1 check failed", traceback: ["\u001b[31mCheckFailed\u001b[0m: 1 check failed", "    at cell:1"] },
        ],
      },
      { cell_type: "code", id: "slow", metadata: {}, source: "await sleep(forever)", execution_count: null, outputs: [] },
      { cell_type: "code", id: "needs-ipv6", metadata: {}, source: "ipv6()", execution_count: null, outputs: [] },
      { cell_type: "code", id: "graded", metadata: {}, source: "gradedCheck()", execution_count: 3, outputs: [] },
    ],
  };
}
