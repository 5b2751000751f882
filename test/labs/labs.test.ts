// Every lab in labs/ runs headless on the embedded backend and passes, as `labbook run labs/` would, in
// grading mode: hidden checks last, in a fresh kernel prepared only by the lab's grader-setup cell.
// (test/labs/jupyter.test.ts runs them in place, as Jupyter does.)
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expandNotebookPaths } from "../../runner/run/run-notebooks.ts";
import { pooled, runHeadless } from "../helpers/run.ts";

const LABS = fileURLToPath(new URL("../../labs/", import.meta.url));

describe("the labs", function () {
  this.timeout(300_000);

  // The template too: `labbook run labs/` skips it, but a new lab starts as a copy of it.
  const paths = [...expandNotebookPaths([LABS]), join(LABS, "_template", "_template.ipynb")];
  const run = pooled(paths.map((path) => [path, () => runHeadless(path, { keepGoing: true, timeoutS: 120, isolateHidden: true })]));
  for (const path of paths) {
    it(`${path.slice(LABS.length)} passes headless on the embedded cluster, hidden checks in a fresh kernel`, async () => {
      const result = await run(path);
      if (result.cells.some((c) => c.role === "hidden-check")) {
        assert.ok(result.cells.some((c) => c.role === "grader-setup" && c.status === "passed"), "hidden checks but no grader-setup cell ran: the fresh kernel would know no names");
      }
      const problems = result.cells
        .filter((c) => c.status !== "passed" && !(c.status === "skipped" && c.skipReason?.startsWith("needs ")))
        .map((c) => `${c.id}: ${c.status} ${c.error?.message ?? c.skipReason ?? c.checks.filter((k) => !k.passed).map((k) => `${k.name}: ${k.message}`).join("; ")}`);
      assert.deepEqual(problems, []);
      // The embedded backend runs Kubernetes whenever a lab asks for it: a skip here means a lab with Kubernetes
      // cells forgot to ask (its metadata's "kubernetes"), and would teach nothing of them.
      const unasked = result.cells.filter((c) => c.status === "skipped" && c.skipReason?.startsWith("needs kubernetes")).map((c) => c.id);
      assert.deepEqual(unasked, [], "Kubernetes cells skipped on the embedded cluster");
      assert.equal(result.passed, true);
    });
  }
});
