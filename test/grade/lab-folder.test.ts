// A lab is a folder with helpers beside its notebook (labs/README.md). Grading runs the notebook it builds
// in memory in a copy of the lab's helpers, so they resolve for the student's sandboxed kernel and for the
// hidden checks' process alike, wherever the submission lies, while the instructor's notebook and source
// (solutions, hidden checks) stay out of the student's sight.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { NetnsBackend } from "../../runner/backend/netns/driver.ts";
import { studentNotebook } from "../../runner/grade/assign.ts";
import { gradeBatch } from "../../runner/grade/grade-batch.ts";
import { planLab } from "../../runner/grade/lab-plan.ts";
import { silentProgress } from "../../runner/grade/progress.ts";
import type { CodeCell } from "../../runner/notebook/types.ts";
import { FIXTURE_ROOT, notebookOf } from "../helpers/notebooks.ts";

const HELPER = `export const answer = 42;\n`;
const IMPORTS = `import { check } from "labbook";\nimport { answer } from "./helper.js";`;

function writeLab(): string {
  mkdirSync(FIXTURE_ROOT, { recursive: true });
  const dir = mkdtempSync(join(FIXTURE_ROOT, "lab-"));
  chmodSync(dir, 0o755); // students' kernels run as nobody, in this folder
  writeFileSync(join(dir, "helper.ts"), HELPER);
  writeFileSync(join(dir, "lab.lab.ts"), "// the source: solutions and hidden checks\n");
  const notebook = notebookOf([
    { id: "setup", role: "setup", source: IMPORTS },
    { id: "ex", role: "exercise", meta: { points: 2 }, source: `// use answer` },
    { id: "sol", role: "solution", source: `console.log(answer);` },
    { id: "grader", role: "grader-setup", source: IMPORTS },
    { id: "hidden", role: "hidden-check", meta: { hint: "the helper answers" }, source: `await check("the helper answers", () => { if (answer !== 42) throw new Error(String(answer)); return "42"; });` },
  ]);
  const path = join(dir, "lab.ipynb");
  writeFileSync(path, JSON.stringify(notebook, null, 1));
  return path;
}

describe("grading a lab that imports its own helpers", function () {
  this.timeout(300_000);

  it("resolves them in the student's kernel and in the hidden checks' process, and hides the instructor's notebook and source", async () => {
    const labPath = writeLab();
    const plan = planLab(labPath);
    const submissions = mkdtempSync(join(tmpdir(), "labbook-lab-folder-class-"));
    const handIn = (student: string, source: string) => {
      const handedIn = studentNotebook(plan);
      (handedIn.cells.find((c) => c.id === "ex") as CodeCell).source = source;
      writeFileSync(join(submissions, `${student}.ipynb`), JSON.stringify(handedIn));
    };
    handIn("alice", `console.log(answer + 1);`);
    // Mallory looks for the instructor's files where her kernel runs, and where they are.
    const peeks = ["lab.ipynb", "lab.lab.ts", labPath, join(dirname(labPath), "lab.lab.ts")];
    handIn("mallory", `const { readFileSync } = require("node:fs");
for (const path of ${JSON.stringify(peeks)}) {
  let read = false;
  try { read = readFileSync(path, "utf8").length > 0; } catch {}
  if (read) throw new Error("the student's kernel read " + path);
}
console.log(answer + 1);`);
    const { book } = await gradeBatch(plan, [submissions], { backend: new NetnsBackend(), jobs: 2, timeoutS: 30, outDir: mkdtempSync(join(tmpdir(), "labbook-lab-folder-out-")), progress: silentProgress });
    const alice = book.students.find((s) => s.student === "alice");
    assert.ok(alice, JSON.stringify(book));
    assert.equal(alice.status, "graded", alice.reason);
    assert.deepEqual(alice.exerciseCells, [{ id: "ex", status: "passed" }]);
    assert.equal(alice.total, 2);
    const mallory = book.students.find((s) => s.student === "mallory");
    assert.deepEqual(mallory?.exerciseCells, [{ id: "ex", status: "passed" }], JSON.stringify(mallory));
  });
});
