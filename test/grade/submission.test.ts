// Reading a hand-in: exercise cells matched by id, the student's other changes reported and ignored,
// and anything that is not this lab's notebook refused with a reason; never a throw.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { studentNotebook } from "../../runner/grade/assign.ts";
import { gradedNotebook } from "../../runner/grade/graded-notebook.ts";
import { planLab } from "../../runner/grade/lab-plan.ts";
import { disambiguateStudents, readSubmission, studentIdFrom } from "../../runner/grade/submission.ts";
import { sourceText, type CodeCell, type Notebook } from "../../runner/notebook/types.ts";
import { LAB_02 } from "./submissions.ts";

const dir = mkdtempSync(join(tmpdir(), "labbook-submission-"));
const plan = planLab(LAB_02);
const assigned = studentNotebook(plan);

function write(name: string, content: string | Notebook): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

function exerciseOf(nb: Notebook): CodeCell {
  return nb.cells.find((c) => (c.metadata.labbook as { role?: string } | undefined)?.role === "exercise") as CodeCell;
}

describe("grade: reading submissions", () => {
  it("takes the exercise's source by cell id, wherever the student moved it", () => {
    const nb = structuredClone(assigned);
    const exercise = exerciseOf(nb);
    exercise.source = ["await node3.$`true`;\n", "// mine\n"];
    nb.cells = [exercise, ...nb.cells.filter((c) => c !== exercise)];
    const submission = readSubmission(write("moved.ipynb", nb), plan);
    assert.equal(submission.rejected, undefined);
    assert.equal(submission.answers.get("exercise-node3")?.source, "await node3.$`true`;\n// mine\n");
  });

  it("runs cells added after an exercise as part of it, and reports code added elsewhere", () => {
    const nb = structuredClone(assigned);
    const at = nb.cells.indexOf(exerciseOf(nb));
    nb.cells.splice(at + 1, 0, { cell_type: "code", id: "x1", metadata: {}, source: "await node1.$`a`;", outputs: [], execution_count: null });
    nb.cells.splice(1, 0, { cell_type: "code", id: "x2", metadata: {}, source: "console.log(1)", outputs: [], execution_count: null });
    const submission = readSubmission(write("added.ipynb", nb), plan);
    assert.deepEqual(submission.answers.get("exercise-node3")?.added, ["await node1.$`a`;"]);
    assert.match(submission.notes.join("\n"), /outside the exercises were not run \(cell 2\)/);
    const graded = gradedNotebook(plan, submission, 7);
    const ids = graded.cells.map((c) => c.id);
    assert.deepEqual(ids.slice(ids.indexOf("exercise-node3"), ids.indexOf("exercise-node3") + 2), ["exercise-node3", "exercise-node3-added-1"]);
    assert.ok(!ids.includes("solution-node3") && !ids.includes("x2"));
    const exercise = graded.cells.find((c) => c.id === "exercise-node3")!;
    assert.equal((exercise.metadata.labbook as { timeout?: number }).timeout, 7);
    assert.ok(graded.cells.some((c) => c.id === "hidden-node3"), "hidden checks stay in the graded notebook");
  });

  it("uses the instructor's cells, not the student's edits of them, and says so", () => {
    const nb = structuredClone(assigned);
    const check = nb.cells.find((c) => c.id === "check-after")!;
    check.source = "// gone";
    const submission = readSubmission(write("edited.ipynb", nb), plan);
    assert.match(submission.notes.join("\n"), /you changed the lab's own cells \(check-after\); your changes were not used, the grader ran the lab's/);
    const graded = gradedNotebook(plan, submission, 60);
    assert.notEqual(sourceText(graded.cells.find((c) => c.id === "check-after")!.source), "// gone");
  });

  it("refuses what is not this lab's notebook, with the reason", () => {
    const cases: Array<[string, string | Notebook, RegExp]> = [
      ["empty.ipynb", "", /the file is empty/],
      ["junk.ipynb", "\u0000\u0001binary", /invalid JSON/],
      ["list.ipynb", "[1, 2]", /no "cells" list/],
      ["other.ipynb", { ...assigned, metadata: { labbook: { assignment: { lab: "07-service", exercises: [], version: "x" } } } }, /lab "07-service", not "02-cross-host-routes"/],
      ["none.ipynb", { ...assigned, metadata: {}, cells: [] }, /none of the lab's exercise cells/],
    ];
    for (const [name, content, reason] of cases) {
      const submission = readSubmission(write(name, content), plan);
      assert.match(submission.rejected ?? "(accepted)", reason, name);
    }
  });

  it("notes a submission handed out from another version of the lab", () => {
    const nb = structuredClone(assigned);
    (nb.metadata.labbook as { assignment: { version: string } }).assignment.version = "0000";
    assert.match(readSubmission(write("old.ipynb", nb), plan).notes.join("\n"), /another version of the lab/);
  });

  it("names students by metadata or file name, safely and uniquely", () => {
    assert.equal(studentIdFrom("/x/alice smith.ipynb", undefined), "alice_smith");
    assert.equal(studentIdFrom("/x/a.ipynb", { labbook: { student: "../../etc/passwd" } }), "etc_passwd");
    const subs = ["a/bob.ipynb", "b/bob.ipynb"].map((path) => ({ path, student: "bob", answers: new Map(), notes: [] as string[], suspicious: [] }));
    disambiguateStudents(subs);
    assert.deepEqual(subs.map((s) => s.student), ["bob", "bob-2"]);
  });
});
