// Jupyter's own headless runner with labbook's kernelspec: the launcher's fix for tslab's
// lost output must hold there too, not only under labbook run.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { installKernelSpec, KERNEL_NAME } from "../../runner/kernel/kernelspec.ts";
import type { Notebook } from "../../runner/notebook/types.ts";
import { writeFixture } from "../helpers/notebooks.ts";

const run = promisify(execFile);

/** Runs a 5000-line burst under nbconvert with the kernelspec in `prefix`; returns each cell's stream text. */
async function burstUnderNbconvert(prefix: string, timeoutS = 60): Promise<(id: string) => string> {
  const path = writeFixture("burst", [
    { id: "burst", source: `for (let i = 0; i < 5000; i++) console.log("line " + i);` },
    { id: "after", source: `console.log("after the burst");` },
  ]);
  const out = mkdtempSync(join(tmpdir(), "labbook-nbconvert-"));
  await run("jupyter-nbconvert", ["--to", "notebook", "--execute", `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`, `--ExecutePreprocessor.timeout=${timeoutS}`, "--output-dir", out, path], {
    env: { ...process.env, JUPYTER_PATH: join(prefix, "share", "jupyter") },
  });
  const executed = JSON.parse(readFileSync(join(out, "burst.ipynb"), "utf8")) as Notebook;
  return (id: string) =>
      executed.cells
        .filter((c) => c.id === id && c.cell_type === "code")
        .flatMap((c) => (c.cell_type === "code" ? c.outputs : []))
        .map((o) => (o.output_type === "stream" ? (Array.isArray(o.text) ? o.text.join("") : o.text) : ""))
        .join("");
}

describe("the kernelspec under jupyter nbconvert --execute", function () {
  this.timeout(120_000);

  it("delivers 5000 lines printed in one burst, and the cells after it", async () => {
    const prefix = mkdtempSync(join(tmpdir(), "labbook-jupyter-"));
    installKernelSpec({ prefix });
    const text = await burstUnderNbconvert(prefix);
    const lines = text("burst").trimEnd().split("\n");
    assert.equal(lines.length, 5000);
    assert.equal(lines[0], "line 0");
    assert.equal(lines[4999], "line 4999");
    assert.equal(text("after"), "after the burst\n");
  });

  it("shows a failed cell as a proper error output, as Jupyter expects (tslab alone sends none)", async () => {
    const prefix = mkdtempSync(join(tmpdir(), "labbook-jupyter-"));
    installKernelSpec({ prefix });
    const path = writeFixture("fails", [{ id: "throws", source: `throw new RangeError("out of range 9");` }]);
    const out = mkdtempSync(join(tmpdir(), "labbook-nbconvert-"));
    await run("jupyter-nbconvert", ["--to", "notebook", "--execute", "--allow-errors", `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`, "--output-dir", out, path], {
      env: { ...process.env, JUPYTER_PATH: join(prefix, "share", "jupyter") },
    });
    const executed = JSON.parse(readFileSync(join(out, "fails.ipynb"), "utf8")) as Notebook;
    const cell = executed.cells[0]!;
    const errors = cell.cell_type === "code" ? cell.outputs.filter((o) => o.output_type === "error") : [];
    assert.equal(errors.length, 1);
    assert.deepEqual(errors.map((e) => (e.output_type === "error" ? [e.ename, e.evalue] : [])), [["RangeError", "out of range 9"]]);
  });

  it("(control) plain tslab, without the launcher, loses most of them: the test above can fail", async () => {
    const prefix = mkdtempSync(join(tmpdir(), "labbook-jupyter-plain-"));
    const dir = join(prefix, "share", "jupyter", "kernels", KERNEL_NAME);
    mkdirSync(dir, { recursive: true });
    const tslab = fileURLToPath(new URL("../../node_modules/tslab/bin/tslab", import.meta.url));
    writeFileSync(join(dir, "kernel.json"), JSON.stringify({ argv: [process.execPath, tslab, "kernel", "--config-path", "{connection_file}"], display_name: "plain tslab", language: "typescript" }));
    // Plain tslab either loses lines or loses the final idle status, and nbconvert then times out.
    const lines = await burstUnderNbconvert(prefix, 20).then(
      (text) => text("burst").trimEnd().split("\n").length,
      () => 0,
    );
    assert.ok(lines < 5000, "plain tslab delivered every line: the bug this launcher fixes did not show");
  });
});
