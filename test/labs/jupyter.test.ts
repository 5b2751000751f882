// The labs as a student runs them: Jupyter's own kernel machinery (nbconvert --execute with
// labbook's kernelspec), no LABBOOK_CLUSTER, so each lab works on the shared cluster of
// `labbook up`, one after another, as in a Jupyter session. Every check must pass there too.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { NetnsBackend } from "../../runner/backend/netns/driver.ts";
import { DEFAULT_CLUSTER_NAME } from "../../runner/cluster/cluster.ts";
import { installKernelSpec, KERNEL_NAME } from "../../runner/kernel/kernelspec.ts";
import { expandNotebookPaths } from "../../runner/run/run-notebooks.ts";
import { CHECK_MIME, type Notebook } from "../../runner/notebook/types.ts";

const run = promisify(execFile);
const LABS = fileURLToPath(new URL("../../labs/", import.meta.url));

interface CheckOutput {
  name: string;
  passed: boolean;
  message: string;
}

function checksIn(notebook: Notebook): CheckOutput[] {
  return notebook.cells.flatMap((cell) =>
    cell.cell_type === "code" ? cell.outputs.flatMap((o) => (o.output_type === "display_data" && o.data[CHECK_MIME] ? [o.data[CHECK_MIME] as unknown as CheckOutput] : [])) : [],
  );
}

describe("the labs in Jupyter (nbconvert --execute, the shared cluster)", function () {
  this.timeout(180_000);
  const prefix = mkdtempSync(join(tmpdir(), "labbook-jupyter-labs-"));
  const out = mkdtempSync(join(tmpdir(), "labbook-jupyter-labs-out-"));
  before(() => installKernelSpec({ prefix }));
  after(() => new NetnsBackend().down(DEFAULT_CLUSTER_NAME));

  for (const path of expandNotebookPaths([LABS])) {
    it(`${basename(path)}: every check passes`, async () => {
      // Without --allow-errors, a cell that throws fails nbconvert and this test with it.
      await run("jupyter-nbconvert", ["--to", "notebook", "--execute", `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`, "--ExecutePreprocessor.timeout=120", "--output-dir", out, path], {
        env: { ...process.env, JUPYTER_PATH: join(prefix, "share", "jupyter") },
        maxBuffer: 64 << 20,
      });
      const checks = checksIn(JSON.parse(readFileSync(join(out, basename(path)), "utf8")) as Notebook);
      assert.ok(checks.length > 0, "no check ran");
      assert.deepEqual(checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.message}`), []);
    });
  }
});
