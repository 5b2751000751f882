// labbook lab typecheck: each lab's cells type-checked as the kernel runs them and as the grader does,
// errors at the source's own lines.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { findLabSources } from "../../runner/lab/build.ts";
import { formatLabTypeError, typecheckLabs } from "../../runner/lab/typecheck.ts";

const LABS = fileURLToPath(new URL("../../labs/", import.meta.url));

const LAB = `// %% [markdown]
// # Lab 98

// %% labbook={"id": "setup", "role": "setup"}
import { cluster, check } from "labbook";
import { double } from "./helper.js";
const c = await cluster({ fresh: true });
const seen: number = double(2);

// %% labbook={"id": "step", "role": "step"}
const wrong: string = seen;

// %% [raw] labbook={"id": "grader-setup", "role": "grader-setup"}
// import { check } from "labbook";

// %% labbook={"id": "hidden", "role": "hidden-check", "hint": "h"}
await check("doubled", () => String(seen));
`;

describe("labbook lab typecheck", function () {
  this.timeout(60_000);

  it("finds no error in the labs", () => {
    assert.deepEqual(typecheckLabs(findLabSources([LABS])).map((e) => formatLabTypeError(e)), []);
  });

  it("reports a wrong type at its line, and a hidden check that leans on a name only the student's kernel has", () => {
    const dir = mkdtempSync(join(tmpdir(), "labbook-lab-typecheck-"));
    try {
      mkdirSync(join(dir, "98-test"));
      writeFileSync(join(dir, "98-test", "98-test.lab.ts"), LAB);
      writeFileSync(join(dir, "98-test", "helper.ts"), "export const double = (n: number): number => 2 * n;\n");
      const errors = typecheckLabs(findLabSources([dir]));
      const brief = errors.map((e) => [e.line, e.cell, e.view, e.code]);
      assert.deepEqual(brief, [
        [11, "step", "kernel", 2322],
        [17, "hidden", "grader", 2304],
      ]);
      assert.match(formatLabTypeError(errors[1]!, dir), /^98-test\/98-test\.lab\.ts\(17,\d+\): error TS2304: Cannot find name 'seen'\. \[cell hidden, as the grader runs it/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
