import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { jsonReporter } from "../../runner/report/json.ts";
import { runSummary } from "./fixture.ts";

describe("json reporter", () => {
  it("writes the run summary to <outDir>/results.json, pretty-printed, and it reads back the same", async () => {
    const outDir = await mkdtemp(path.join(os.tmpdir(), "labbook-json-"));
    try {
      const written = await jsonReporter(path.join(outDir, "nested")).onRunEnd!(runSummary());
      assert.deepEqual(written, [path.join(outDir, "nested", "results.json")]);
      const text = await readFile(written[0]!, "utf8");
      assert.deepEqual(JSON.parse(text), runSummary());
      assert.match(text, /^\{\n {2}"startedAt"/);
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  });
});
