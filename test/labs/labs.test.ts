// Every lab in labs/ runs headless on the embedded backend and passes, as `labbook run labs/` would.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NetnsBackend } from "../../runner/backend/netns/driver.ts";
import { runNotebook } from "../../runner/run/notebook-run.ts";
import { expandNotebookPaths } from "../../runner/run/run-notebooks.ts";
import { uniqueClusterName } from "../helpers/cluster.ts";

const LABS = fileURLToPath(new URL("../../labs/", import.meta.url));

describe("the labs", function () {
  this.timeout(300_000);

  for (const path of expandNotebookPaths([LABS])) {
    it(`${path.slice(LABS.length)} passes headless on the embedded cluster`, async () => {
      const result = await runNotebook(path, {
        backend: new NetnsBackend(),
        timeoutS: 120,
        keepGoing: true,
        outDir: mkdtempSync(join(tmpdir(), "labbook-labs-")),
        reporter: {},
        clusterName: uniqueClusterName("lab"),
      });
      const problems = result.cells
        .filter((c) => c.status !== "passed" && !(c.status === "skipped" && c.skipReason?.startsWith("needs ")))
        .map((c) => `${c.id}: ${c.status} ${c.error?.message ?? c.skipReason ?? c.checks.filter((k) => !k.passed).map((k) => `${k.name}: ${k.message}`).join("; ")}`);
      assert.deepEqual(problems, []);
      assert.equal(result.passed, true);
    });
  }
});
