import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { ConsoleReporter } from "../../runner/report/console.ts";
import type { CellResult } from "../../runner/notebook/results.ts";
import { ROUTING, runSummary } from "./fixture.ts";

/** Replays the fixture run's events the way the runner sends them, and returns what was printed. */
async function replay(stream: PassThrough): Promise<string> {
  let printed = "";
  stream.on("data", (chunk: Buffer) => (printed += chunk.toString()));
  const reporter = new ConsoleReporter(stream);
  const summary = runSummary();
  const routing = summary.notebooks[0]!;
  reporter.onNotebookStart({ notebook: ROUTING, title: routing.title, cells: routing.cells.length, cluster: routing.cluster });
  for (const cell of routing.cells) {
    const end: CellResult & { notebook: string } = { ...cell, notebook: ROUTING };
    if (cell.status === "skipped" || cell.status === "not-run") {
      reporter.onCellEnd(end);
      continue;
    }
    reporter.onCellStart({ notebook: ROUTING, index: cell.index, id: cell.id, role: cell.role, title: cell.title });
    for (const check of cell.checks) reporter.onCheck({ ...check, notebook: ROUTING, cellIndex: cell.index });
    reporter.onCellEnd(end);
  }
  reporter.onNotebookEnd(routing);
  assert.deepEqual(reporter.onRunEnd(summary), []);
  await new Promise((resolve) => setImmediate(resolve));
  return printed;
}

describe("console reporter", () => {
  it("prints plain lines, no escape codes, when the stream is not a terminal", async () => {
    const printed = await replay(new PassThrough());
    assert.doesNotMatch(printed, /[\r\u001b]/);
    const lines = printed.split("\n");
    assert.equal(lines[0], `Routing between nodes (${ROUTING}, cluster lab)`);
    assert.deepEqual(lines.slice(1, 12), [
      "  ✔ const html = '<script>' (1.2 s)",
      "  ▸ await check routes",
      "      ✔ node1 reaches node2",
      '      ✘ route to 10.0.0.0/8: no route <via> "node2" & \u0007bell',
      "        second line",
      "  ✘ await check routes (3.4 s)",
      "  ⏱ await sleep(forever) (timed out, 30.0 s)",
      "      Timeout: cell ran past 30 s",
      "  - ipv6 exercise (skipped: requires ipv6)",
      "  ▸ graded check",
      "      ✔ all nodes ready",
    ]);
    assert.ok(!printed.includes("# Routing lab"), "markdown cells are not printed");
  });

  it("ends with a line per notebook with its time, the run's time, and the run's totals", async () => {
    const lines = (await replay(new PassThrough())).trimEnd().split("\n");
    assert.deepEqual(lines.slice(-6), [
      "",
      "✘ Routing between nodes: failed, 2 passed, 2 failed, 1 skipped (40.0 s)",
      "✘ Broken lab: error, 0 passed, 0 failed, 0 skipped (2.0 s)",
      "  kernel would not start: tslab not found",
      "2 notebooks in 42.0 s",
      "2 passed, 3 failed, 1 skipped",
    ]);
  });

  it("on a terminal, shows the running cell on a line that is replaced, and colours marks", async () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
    const savedNoColor = process.env.NO_COLOR;
    delete process.env.NO_COLOR;
    try {
      const printed = await replay(stream);
      assert.match(printed, /\r\u001b\[2K\u001b\[2mrunning cell 2\/6: const html = '<script>' \(\d+ ms\)\u001b\[0m/);
      assert.match(printed, /\u001b\[32m✔\u001b\[0m const html/);
      // The final line stays uncoloured for CI systems that read it.
      assert.ok(printed.endsWith("\n2 passed, 3 failed, 1 skipped\n"));
    } finally {
      if (savedNoColor !== undefined) process.env.NO_COLOR = savedNoColor;
    }
  });
});
