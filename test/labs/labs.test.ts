// Every lab in labs/ runs headless on the embedded backend and passes, as `labbook run labs/` would.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { expandNotebookPaths } from "../../runner/run/run-notebooks.ts";
import { pooled, runHeadless } from "../helpers/run.ts";

const LABS = fileURLToPath(new URL("../../labs/", import.meta.url));

describe("the labs", function () {
  this.timeout(300_000);

  const paths = expandNotebookPaths([LABS]);
  const run = pooled(paths.map((path) => [path, () => runHeadless(path, { keepGoing: true, timeoutS: 120 })]));
  for (const path of paths) {
    it(`${path.slice(LABS.length)} passes headless on the embedded cluster`, async () => {
      const result = await run(path);
      const problems = result.cells
        .filter((c) => c.status !== "passed" && !(c.status === "skipped" && c.skipReason?.startsWith("needs ")))
        .map((c) => `${c.id}: ${c.status} ${c.error?.message ?? c.skipReason ?? c.checks.filter((k) => !k.passed).map((k) => `${k.name}: ${k.message}`).join("; ")}`);
      assert.deepEqual(problems, []);
      assert.equal(result.passed, true);
    });
  }
});
