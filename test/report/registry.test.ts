import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { UsageError } from "../../runner/errors.ts";
import { createReporters, fanOut, reporterNames } from "../../runner/report/registry.ts";
import type { Reporter } from "../../runner/report/types.ts";
import { runSummary } from "./fixture.ts";

describe("reporter registry", () => {
  it("knows the five reporters", () => {
    assert.deepEqual(reporterNames(), ["console", "junit", "json", "html", "md"]);
    assert.equal(createReporters(reporterNames(), { outDir: "/nonexistent", stream: new PassThrough() }).length, 5);
  });

  it("rejects an unknown name with a usage error naming it and the known ones", () => {
    assert.throws(
      () => createReporters(["junit", "xunit"], { outDir: "/nonexistent" }),
      (error: unknown) =>
        error instanceof UsageError && error.exitCode === 2 && error.message === 'unknown reporter "xunit" (available: console, junit, json, html, md)',
    );
  });

  it("fans events out to every reporter and concatenates the files they wrote", async () => {
    const seen: string[] = [];
    const recorder = (name: string, files: string[]): Reporter => ({
      onCellStart: (cell) => seen.push(`${name} start ${cell.id}`),
      onRunEnd: async () => files,
    });
    const fan = fanOut([recorder("a", ["a.xml"]), {}, recorder("b", ["b.json", "b.md"])]);
    fan.onCellStart!({ notebook: "n.ipynb", index: 1, id: "setup", role: "setup", title: "setup" });
    fan.onCheck!({ notebook: "n.ipynb", cellIndex: 1, name: "x", passed: true, message: "", attempts: 1, durationMs: 1 });
    assert.deepEqual(seen, ["a start setup", "b start setup"]);
    assert.deepEqual(await fan.onRunEnd!(runSummary()), ["a.xml", "b.json", "b.md"]);
  });

  it("lets every reporter write even when one fails, then reports the failure", async () => {
    let wrote = false;
    const fan = fanOut([
      { onRunEnd: () => Promise.reject(new Error("disk full")) },
      { onRunEnd: () => ((wrote = true), ["x"]) },
    ]);
    await assert.rejects(async () => fan.onRunEnd!(runSummary()), /disk full/);
    assert.equal(wrote, true);
  });
});
