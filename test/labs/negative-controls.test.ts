// Every hidden check can fail: each lab runs with its solution cells emptied, and every
// hidden-check cell must then report a failed check (or fail outright).
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readNotebook } from "../../runner/notebook/read.ts";
import { cellMetadata } from "../../runner/notebook/roles.ts";
import { expandNotebookPaths } from "../../runner/run/run-notebooks.ts";
import { hiddenChecksThatPassed, withoutSolutions } from "../helpers/negative-control.ts";
import { pooled, runHeadless } from "../helpers/run.ts";

const LABS = fileURLToPath(new URL("../../labs/", import.meta.url));

function roles(path: string): string[] {
  return readNotebook(path).cells.flatMap((cell) => (cell.cell_type === "code" ? [cellMetadata(cell, path).meta.role] : []));
}

describe("the labs' negative controls", function () {
  this.timeout(300_000);
  // Lab 00 is the tour of the tools; every lab after it teaches and grades.
  const graded = [...expandNotebookPaths([LABS]), join(LABS, "_template", "_template.ipynb")].filter((path) => !path.endsWith("00-hello-cluster.ipynb"));

  const run = pooled(graded.map((path) => [path, () => runHeadless(path, { notebook: withoutSolutions(path), keepGoing: true, timeoutS: 120, isolateHidden: true })]));
  for (const path of graded) {
    const name = path.slice(LABS.length);
    it(`${name} has an exercise, a solution and hidden checks with hints`, () => {
      const present = roles(path);
      for (const role of ["exercise", "solution", "hidden-check"]) assert.ok(present.includes(role), `${name} has no ${role} cell`);
      const hidden = readNotebook(path).cells.filter((cell) => cell.cell_type === "code" && cellMetadata(cell, path).meta.role === "hidden-check");
      for (const cell of hidden) assert.ok(cellMetadata(cell, path).meta.hint, `${name}: hidden check ${cell.id} has no hint for students`);
    });

    it(`${name} without its solutions fails every hidden check`, async () => {
      const result = await run(path);
      const hidden = result.cells.filter((cell) => cell.role === "hidden-check");
      assert.ok(hidden.length > 0, "no hidden-check cell ran");
      assert.deepEqual(hiddenChecksThatPassed(result), [], "these hidden checks passed with the solution removed");
      // They fail on the cluster's state, not on a name the fresh kernel lacks.
      const wrongReason = hidden.filter((cell) => cell.checks.length === 0 || /TypeScriptError|ReferenceError/.test(cell.error?.name ?? "")).map((cell) => `${cell.id}: ${cell.error?.name}: ${cell.error?.message}`);
      assert.deepEqual(wrongReason, []);
      // The steps before the exercise still pass: the failure is the missing work, not a broken lab.
      const needsMore = (cell: (typeof result.cells)[number]) => cell.status === "skipped" && cell.skipReason?.startsWith("needs ");
      const brokenSteps = result.cells.filter((cell) => ["setup", "step", "check"].includes(cell.role) && cell.status !== "passed" && !needsMore(cell)).map((cell) => `${cell.id}: ${cell.status}`);
      assert.deepEqual(brokenSteps, []);
    });
  }
});
