// Scoring from recorded results: partial credit by check points, the full score fixed by the reference
// run (a hidden cell that dies early cannot shrink it), checks outside hidden cells never count, and
// a lab cell failing before any student code ran is a grading error, not a zero.
import assert from "node:assert/strict";
import { planLab } from "../../runner/grade/lab-plan.ts";
import { expectedChecks, scoreRun } from "../../runner/grade/score.ts";
import type { CellResult, CheckOutcome, NotebookRunResult } from "../../runner/notebook/results.ts";
import { LAB_02 } from "./submissions.ts";

const plan = planLab(LAB_02);
const NAMES = ["node3/c1 reaches 172.17.0.2", "node3/c1 reaches 172.18.0.2", "node1/c1 reaches 172.19.0.2", "node2/c1 reaches 172.19.0.2"];

function check(name: string, passed: boolean): CheckOutcome {
  return { name, passed, message: passed ? "answered" : "no answer", attempts: 1, durationMs: 1, points: 1 };
}

function cell(index: number, id: string, role: CellResult["role"], checks: CheckOutcome[] = [], status: CellResult["status"] = "passed"): CellResult {
  return { index, id, role, title: id, status, durationMs: 1, checks };
}

function run(hidden: CellResult, overrides: Partial<Record<string, CellResult>> = {}): NotebookRunResult {
  const cells = [cell(1, "setup", "setup"), cell(2, "check-before", "check", [check("before", true)]), cell(5, "exercise-node3", "exercise", [check(NAMES[0]!, true)]), hidden].map((c) => overrides[c.id] ?? c);
  return { notebook: "x", executedNotebook: "x", title: "t", backend: "netns", cluster: "c", startedAt: "", durationMs: 1, passed: true, cells };
}

const reference = run(cell(9, "hidden-node3", "hidden-check", NAMES.map((n) => check(n, true))));
const expected = expectedChecks(plan, reference);
const submitted = new Set(["exercise-node3"]);

describe("grade: scoring", () => {
  it("gives partial credit in proportion to the points of the checks passed", () => {
    const result = scoreRun(plan, expected, run(cell(9, "hidden-node3", "hidden-check", NAMES.map((n, i) => check(n, i < 2)), "failed")), submitted);
    assert.equal(result.status, "graded");
    assert.equal(result.total, 1.5);
    assert.equal(result.max, 3);
  });

  it("keeps the full score from the reference when a hidden cell stops after one check", () => {
    const result = scoreRun(plan, expected, run(cell(9, "hidden-node3", "hidden-check", [check(NAMES[0]!, true)], "timed-out")), submitted);
    assert.equal(result.total, 0.75);
    assert.match(result.exercises[0]!.checks[3]!.detail, /did not run: the hidden cell ended "timed-out"/);
  });

  it("counts no check published outside the hidden cells, and no unknown name inside them", () => {
    const result = scoreRun(plan, expected, run(cell(9, "hidden-node3", "hidden-check", [check("made up", true)], "failed")), submitted);
    assert.equal(result.total, 0);
  });

  it("calls a failed lab cell before the exercise a grading error, not a zero", () => {
    const result = scoreRun(plan, expected, run(cell(9, "hidden-node3", "hidden-check"), { setup: cell(1, "setup", "setup", [], "failed") }), submitted);
    assert.equal(result.status, "error");
    assert.match(result.reason ?? "", /"setup" ended "failed" before any student code ran/);
  });

  it("refuses to grade when the instructor's solution fails a hidden check", () => {
    const broken = run(cell(9, "hidden-node3", "hidden-check", NAMES.map((n, i) => check(n, i !== 2)), "failed"));
    assert.throws(() => expectedChecks(plan, broken), /solution fails its own hidden checks[\s\S]*node1\/c1 reaches 172\.19\.0\.2/);
  });
});
