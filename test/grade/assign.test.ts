// labbook assign: the student version keeps exercises and visible checks, and leaks nothing of the
// solutions and hidden checks; an instructor notebook that cannot be graded is refused, by name.
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { studentNotebook } from "../../runner/grade/assign.ts";
import { planLab } from "../../runner/grade/lab-plan.ts";
import { schemaProblems, writeNotebook } from "../../runner/notebook/read.ts";
import { sourceText, type Notebook } from "../../runner/notebook/types.ts";
import { expandNotebookPaths } from "../../runner/run/run-notebooks.ts";
import { labbook } from "../helpers/cli.ts";
import { FIXTURE_ROOT, writeFixture, type FixtureCell } from "../helpers/notebooks.ts";
import { runHeadless } from "../helpers/run.ts";

const LABS = fileURLToPath(new URL("../../labs/", import.meta.url));
const GRADED = expandNotebookPaths([LABS]).filter((path) => !path.endsWith("00-hello-cluster.ipynb"));

/** Lines of `secret` cells long enough to be telling, and absent from every cell the student keeps. */
function tellingLines(plan: ReturnType<typeof planLab>, secret: Set<string>): string[] {
  const kept = plan.notebook.cells.filter((c) => !secret.has(c.id)).map((c) => sourceText(c.source)).join("\n");
  return plan.notebook.cells
    .filter((c) => secret.has(c.id))
    .flatMap((c) => sourceText(c.source).split("\n"))
    .map((line) => line.trim())
    .filter((line) => line.length >= 20 && !kept.includes(line));
}

describe("labbook assign", () => {
  for (const path of GRADED) {
    const name = path.slice(LABS.length);
    it(`${name}: no solution or hidden-check text, hint or output in the student file; exercises and checks kept`, () => {
      const plan = planLab(path);
      const student = studentNotebook(plan);
      const text = JSON.stringify(student);
      const secret = new Set([...plan.exercises.map((e) => e.solution.cell.id), ...plan.hiddenChecks.map((h) => h.cell.id)]);
      const lines = tellingLines(plan, secret);
      assert.ok(lines.length > 0, "the test would prove nothing: no telling line in the secret cells");
      const leaked = (json: string) => lines.filter((line) => json.includes(JSON.stringify(line).slice(1, -1)));
      assert.deepEqual(leaked(JSON.stringify(plan.notebook)), lines, "(control) the detector misses lines of the instructor's own file");
      assert.deepEqual(leaked(text), [], "leaked lines");
      for (const hidden of plan.hiddenChecks) assert.ok(!text.includes(hidden.meta.hint!), `the hint of ${hidden.id} leaked`);
      assert.ok(!text.includes('"hidden-check"') && !text.includes('"solution"'), "a removed cell's role is still there");
      assert.deepEqual(schemaProblems(student), []);
      const ids = student.cells.map((c) => c.id);
      for (const { exercise } of plan.exercises) assert.ok(ids.includes(exercise.cell.id), `exercise ${exercise.id} missing`);
      const checks = plan.notebook.cells.filter((c) => c.cell_type === "code" && (c.metadata.labbook as { role?: string })?.role === "check").map((c) => c.id);
      assert.deepEqual(checks.filter((id) => !ids.includes(id)), [], "visible checks were removed");
      assert.ok(student.cells.every((c) => c.cell_type !== "code" || (c.outputs.length === 0 && c.execution_count === null)));
      assert.deepEqual((student.metadata.labbook as { assignment: { exercises: string[] } }).assignment.exercises, plan.exercises.map((e) => e.exercise.id));
    });
  }

  it("the student version of lab 02 runs headless: every step and visible check passes, the stub included", async function () {
    this.timeout(120_000);
    const dir = join(FIXTURE_ROOT, "assigned");
    mkdirSync(dir, { recursive: true });
    const path = join(dir, "02-cross-host-routes.ipynb");
    writeNotebook(path, studentNotebook(planLab(join(LABS, "02-cross-host-routes", "02-cross-host-routes.ipynb"))));
    const result = await runHeadless(path, { keepGoing: true, timeoutS: 60 });
    assert.deepEqual(result.cells.filter((c) => c.status !== "passed").map((c) => `${c.id}: ${c.status}`), []);
    assert.deepEqual([...new Set(result.cells.map((c) => c.role))].sort(), ["check", "exercise", "setup", "step"]);
  });

  const base: FixtureCell[] = [
    { id: "setup", source: "const x = 1;", role: "setup" },
    { id: "ex", source: "// your turn", role: "exercise", meta: { points: 2 } },
    { id: "sol", source: "// the answer", role: "solution", meta: { points: 2 } },
    { id: "hidden", source: "// secret check", role: "hidden-check", meta: { hint: "look at routes" } },
  ];
  const refusals: Array<[string, FixtureCell[], RegExp]> = [
    ["a duplicate cell id", [...base, { id: "setup", source: "", role: "step" }], /have the same id "setup"; cell ids must be unique/],
    ["an exercise without a solution", [base[0]!, base[1]!, base[3]!], /exercise "ex" has no solution cell after it/],
    ["a solution without an exercise", [base[0]!, base[2]!, base[1]!, { id: "sol2", source: "", role: "solution" }, base[3]!], /solution "sol" follows no exercise/],
    ["a hidden check without a hint", [base[0]!, base[1]!, base[2]!, { id: "hidden", source: "", role: "hidden-check" }], /hidden check "hidden" has no hint/],
    ["points that are not a number", [base[0]!, { ...base[1]!, meta: { points: "3" } }, base[2]!, base[3]!], /points must be a non-negative number, got "3"/],
    ["no exercise at all", [base[0]!], /no exercise cell/],
  ];
  for (const [what, cells, message] of refusals) {
    it(`refuses ${what}, naming the file and the cell`, () => {
      const path = writeFixture("instructor", cells);
      assert.throws(() => planLab(path), (error: Error) => message.test(error.message) && error.message.includes(path));
    });
  }

  it("the CLI writes the student file and says what it removed; a bad lab exits 2 with the reasons", async () => {
    const out = await mkdtemp(join(tmpdir(), "labbook-assign-"));
    const ok = await labbook(["assign", writeFixture("lab", base), "--out", out]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /wrote .*lab\.ipynb: 1 exercise \(2 points\); removed 1 solution, 1 hidden-check cell/);
    const written = JSON.parse(readFileSync(join(out, "lab.ipynb"), "utf8")) as Notebook;
    assert.deepEqual(written.cells.map((c) => c.id), ["setup", "ex"]);
    const bad = await labbook(["assign", writeFixture("bad", [base[0]!]), "--out", out]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad\.ipynb: not gradable:\n  it has no exercise cell/);
  });

  it("copies a lab's own helpers beside the student file, never its source, and refuses to overwrite another lab's", async () => {
    const out = await mkdtemp(join(tmpdir(), "labbook-assign-helpers-"));
    const lab07 = join(LABS, "07-service-clusterip-nodeport", "07-service-clusterip-nodeport.ipynb");
    const ok = await labbook(["assign", lab07, "--out", out]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /copied the lab's own files beside it: kube-proxy\.ts/);
    assert.deepEqual(readdirSync(out).sort(), ["07-service-clusterip-nodeport.ipynb", "kube-proxy.ts"]);
    assert.equal(readFileSync(join(out, "kube-proxy.ts"), "utf8"), readFileSync(join(LABS, "07-service-clusterip-nodeport", "kube-proxy.ts"), "utf8"));
    writeFileSync(join(out, "kube-proxy.ts"), "// another lab's kube-proxy.ts\n");
    const clash = await labbook(["assign", lab07, "--out", out]);
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, /kube-proxy\.ts exists and is not .*07-service-clusterip-nodeport\/kube-proxy\.ts/);
  });
});
