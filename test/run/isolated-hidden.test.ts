// Grading runs hidden checks in a fresh kernel: a student's cell that keeps publishing fake
// passing checks (a timer in the student's kernel) fools an in-place run, and not an isolated one.
import assert from "node:assert/strict";
import type { NotebookRunResult } from "../../runner/notebook/results.ts";
import { writeFixture, type FixtureCell } from "../helpers/notebooks.ts";
import { runHeadless } from "../helpers/run.ts";

const CELLS: FixtureCell[] = [
  { id: "setup", role: "setup", source: `import { cluster, check } from "labbook";\nconst c = await cluster();` },
  // The tamper: every 5 ms, a passing check named like the hidden one, from the student's kernel.
  { id: "ex", role: "exercise", source: `const fake = setInterval(() => void check("hidden: node3 has the route", () => "ok", { points: 5 }), 5);` },
  { id: "sol", role: "solution", source: `// nothing: the route is never made` },
  { id: "grader", role: "grader-setup", source: `import { cluster, check } from "labbook";\nconst c = await cluster();` },
  {
    id: "hidden",
    role: "hidden-check",
    meta: { hint: "node3 needs a route" },
    source: `await check("hidden: node3 has the route", async () => { await c.node("node3").$\`ip route get 172.18.0.2 | grep -q 192.168.0.12\`; return "routed"; }, { points: 5 });\nawait new Promise((resolve) => setTimeout(resolve, 300));`,
  },
];

const hiddenChecks = (result: NotebookRunResult) => result.cells.find((c) => c.id === "hidden")!.checks;

describe("hidden checks in a fresh kernel (grading)", function () {
  this.timeout(120_000);

  it("(control) run in place, the student's timer slips passing checks into the hidden cell", async () => {
    const result = await runHeadless(writeFixture("tamper-inplace", CELLS), { keepGoing: true });
    assert.ok(hiddenChecks(result).some((k) => k.passed), "no fake check got in: this control shows nothing");
    assert.equal(result.cells.find((c) => c.id === "grader")!.status, "skipped", "grader-setup runs only when grading");
  });

  it("isolated, the hidden cell runs last in a new kernel and reports only its own, failing check", async () => {
    const result = await runHeadless(writeFixture("tamper-isolated", CELLS), { keepGoing: true, isolateHidden: true });
    const checks = hiddenChecks(result);
    assert.deepEqual(checks.map((k) => [k.name, k.passed]), [["hidden: node3 has the route", false]]);
    assert.equal(result.cells.find((c) => c.id === "grader")!.status, "passed");
    assert.deepEqual(result.cells.map((c) => c.id), ["setup", "ex", "sol", "grader", "hidden"], "results are in notebook order");
  });
});

// A step keeps a value for the hidden checks; the student's cell, in the same kernel, rewrites it.
const NOTE_CELLS: FixtureCell[] = [
  { id: "setup", role: "setup", source: `import { check, keepForGrader, keptForGrader } from "labbook";\nkeepForGrader("answer", 42);` },
  { id: "ex", role: "exercise", source: `keepForGrader("answer", 0);\nkeepForGrader("late", "from the student");` },
  { id: "sol", role: "solution", source: `// nothing` },
  { id: "grader", role: "grader-setup", source: `import { check, keptForGrader } from "labbook";` },
  {
    id: "hidden",
    role: "hidden-check",
    source: `await check("the step's note", () => { const kept = keptForGrader<number>("answer"); if (kept !== 42) throw new Error(\`kept \${kept}\`); return "42"; });\n` +
      `await check("no note from the student", () => { try { keptForGrader("late"); } catch { return "absent"; } throw new Error("the student's note reached the grader"); });`,
  },
];

describe("grader notes when grading", function () {
  this.timeout(120_000);

  it("(control) in place, the student's cell rewrites what the hidden check reads", async () => {
    const result = await runHeadless(writeFixture("notes-inplace", NOTE_CELLS), { keepGoing: true });
    assert.deepEqual(hiddenChecks(result).map((k) => [k.name, k.passed]), [["the step's note", false], ["no note from the student", false]]);
  });

  it("isolated, the hidden checks read the notes as the lab's steps left them, before any student cell", async () => {
    const result = await runHeadless(writeFixture("notes-isolated", NOTE_CELLS), { keepGoing: true, isolateHidden: true });
    assert.deepEqual(hiddenChecks(result).map((k) => [k.name, k.passed]), [["the step's note", true], ["no note from the student", true]]);
  });
});

// A teardown that stops the lab's server: hidden checks must still judge the state the student left, in a
// plain run (the reference, Jupyter) and when grading alike. Teardown stands before the hidden check here, as
// an instructor may put it; it runs last in both modes all the same.
const TEARDOWN_CELLS: FixtureCell[] = [
  { id: "setup", role: "setup", source: `import { cluster, check } from "labbook";\nconst c = await cluster();\nawait c.node("node1").$\`touch /tmp/server-up\`;` },
  { id: "ex", role: "exercise", source: `// nothing to do` },
  { id: "sol", role: "solution", source: `// nothing to do` },
  { id: "down", role: "teardown", source: `await c.node("node1").$\`rm -f /tmp/server-up\`;` },
  { id: "grader", role: "grader-setup", source: `import { cluster, check } from "labbook";\nconst c = await cluster();` },
  { id: "hidden", role: "hidden-check", meta: { hint: "the server must run" }, source: `await check("the server runs", async () => { await c.node("node1").$\`test -e /tmp/server-up\`; return "up"; });` },
];

describe("teardown runs last, in both modes", function () {
  this.timeout(120_000);

  for (const isolateHidden of [false, true]) {
    it(`${isolateHidden ? "grading" : "a plain run"}: the hidden check sees the state before the teardown, and the teardown still runs`, async () => {
      const events: string[] = [];
      const result = await runHeadless(writeFixture(`teardown-${isolateHidden}`, TEARDOWN_CELLS), { keepGoing: true, isolateHidden, events });
      assert.deepEqual(hiddenChecks(result).map((k) => [k.name, k.passed]), [["the server runs", true]]);
      assert.equal(result.cells.find((c) => c.id === "down")!.status, "passed");
      const started = events.filter((e) => e.startsWith("start ")).map((e) => e.slice(6));
      assert.equal(started.at(-1), "down", `order: ${started.join(", ")}`);
      assert.deepEqual(result.cells.map((c) => c.id), TEARDOWN_CELLS.map((c) => c.id), "results are in notebook order");
    });
  }
});
