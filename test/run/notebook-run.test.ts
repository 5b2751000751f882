// labbook run against real tslab kernels and real clusters, one fixture per behaviour.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { NetnsBackend } from "../../runner/backend/netns/driver.ts";
import { schemaProblems } from "../../runner/notebook/read.ts";
import type { Notebook } from "../../runner/notebook/types.ts";
import type { CellResult, NotebookRunResult } from "../../runner/notebook/results.ts";
import { writeFixture } from "../helpers/notebooks.ts";
import { runHeadless } from "../helpers/run.ts";

const IMPORT = `import { cluster, check, reaches } from "labbook";\nconst c = await cluster();`;

const run = (path: string, keepGoing: boolean, events: string[] = []) => runHeadless(path, { keepGoing, events });

const cell = (result: NotebookRunResult, id: string): CellResult => {
  const found = result.cells.find((c) => c.id === id);
  assert.ok(found, `no result for cell ${id}`);
  return found;
};

const executed = (result: NotebookRunResult) => JSON.parse(readFileSync(result.executedNotebook, "utf8")) as Notebook;
const outputsOf = (notebook: Notebook, id: string) => {
  const found = notebook.cells.find((c) => c.id === id);
  assert.ok(found && found.cell_type === "code");
  return found.outputs;
};

describe("labbook run: one notebook on real kernels", function () {
  this.timeout(120_000);

  it("runs a passing lab: checks from the cluster's real state, reported live, executed notebook valid", async () => {
    const events: string[] = [];
    const result = await run(
      writeFixture("pass", [
        { id: "title", markdown: true, source: "# Passing fixture\nSome text." },
        { id: "setup", role: "setup", source: IMPORT },
        { id: "checks", role: "check", source: `await check("node1 reaches node2", () => reaches(c.node("node1"), "192.168.0.12"));` },
      ]),
      false,
      events,
    );
    assert.equal(result.passed, true);
    assert.equal(result.title, "Passing fixture");
    assert.deepEqual(result.cells.map((c) => [c.id, c.status]), [["setup", "passed"], ["checks", "passed"]]);
    assert.deepEqual(cell(result, "checks").checks.map((c) => [c.name, c.passed]), [["node1 reaches node2", true]]);
    assert.deepEqual(events, ["start setup", "end setup passed", "start checks", "check node1 reaches node2 true", "end checks passed"]);
    const notebook = executed(result);
    assert.deepEqual(schemaProblems(notebook), []);
    assert.deepEqual(notebook.cells.filter((c) => c.cell_type === "code").map((c) => (c.cell_type === "code" ? c.execution_count : 0)), [1, 2]);
    const badge = outputsOf(notebook, "checks").find((o) => o.output_type === "display_data");
    assert.ok(badge && badge.output_type === "display_data");
    assert.match(String(badge.data["text/html"]), /labbook-check-pass/);
  });

  it("handles failure, errors, timeouts, a dying kernel and skipped cells, and never skips a cell silently", async () => {
    const result = await run(
      writeFixture("mixed", [
        { id: "setup", role: "setup", source: IMPORT + `\nlet counter = 41;` },
        { id: "bad-check", role: "check", source: `await check("node1 reaches a ghost", () => reaches(c.node("node1"), "192.168.0.99", { timeout: 1 }));` },
        { id: "throws", source: `throw new Error("deliberate failure 7");` },
        { id: "after-error", source: `counter += 1;\nconsole.log("still here", counter);` },
        { id: "type-error", source: `const s: string = 42;` },
        { id: "loop", timeout: 2, source: `while (true) {}` },
        { id: "after-loop", source: `console.log("after loop", counter);` },
        { id: "burst", source: `for (let i = 0; i < 5000; i++) console.log("line " + i);` },
        { id: "kube", requires: ["kubernetes"], source: `console.log("needs a real cluster");` },
        { id: "timer-loop", timeout: 1, source: `setTimeout(() => { while (true) {} }, 0);\nawait new Promise((r) => setTimeout(r, 60_000));` },
        { id: "after-restart", source: `console.log("runs after the restart");` },
        { id: "state-lost", source: `console.log(counter);` },
        { id: "exit", source: `process.exit(3);` },
        { id: "after-exit", source: `console.log("a new kernel");` },
      ]),
      true,
    );
    assert.equal(result.passed, false);
    assert.equal(cell(result, "bad-check").status, "failed");
    assert.match(cell(result, "bad-check").checks[0]!.message, /node1 cannot reach 192\.168\.0\.99 by ping/);

    const throws = cell(result, "throws");
    assert.equal(throws.status, "failed");
    assert.equal(throws.error?.name, "Error");
    assert.equal(throws.error?.message, "deliberate failure 7");
    const notebook = executed(result);
    const errorOutputs = outputsOf(notebook, "throws").filter((o) => o.output_type === "error");
    assert.equal(errorOutputs.length, 1, "exactly one error output");
    assert.ok(errorOutputs[0]!.output_type === "error" && errorOutputs[0]!.evalue === "deliberate failure 7");

    // Right after a failure, inside tslab's abort window: it must run, not be skipped.
    assert.equal(cell(result, "after-error").status, "passed");
    assert.match(JSON.stringify(outputsOf(notebook, "after-error")), /still here 42/);

    assert.equal(cell(result, "type-error").status, "failed");
    assert.equal(cell(result, "type-error").error?.name, "TypeScriptError");
    assert.match(cell(result, "type-error").error!.message, /not assignable to type 'string'/);

    assert.equal(cell(result, "loop").status, "timed-out");
    assert.ok(cell(result, "loop").durationMs < 10_000);
    assert.equal(cell(result, "after-loop").status, "passed");
    assert.match(JSON.stringify(outputsOf(notebook, "after-loop")), /after loop 42/, "SIGINT keeps the kernel's state");

    const burst = outputsOf(notebook, "burst").filter((o) => o.output_type === "stream");
    const lines = burst.map((o) => (o.output_type === "stream" ? String(o.text) : "")).join("").trimEnd().split("\n");
    assert.equal(lines.length, 5000);
    assert.equal(lines[4999], "line 4999");

    assert.equal(cell(result, "kube").status, "skipped");
    assert.match(cell(result, "kube").skipReason!, /needs kubernetes: cluster "[^"]+" runs no Kubernetes: a notebook asks the netns backend for it in its metadata/);

    assert.equal(cell(result, "timer-loop").status, "timed-out");
    assert.match(cell(result, "timer-loop").error!.message, /restarting the kernel/);
    assert.equal(cell(result, "after-restart").status, "passed");
    assert.match(cell(result, "state-lost").error?.message ?? "", /Cannot find name 'counter'/, "a restarted kernel has lost the old state");

    assert.equal(cell(result, "exit").status, "kernel-died");
    assert.match(cell(result, "exit").error!.message, /the kernel died \(exit code 3\)/);
    assert.equal(cell(result, "after-exit").status, "passed");
    assert.deepEqual(schemaProblems(notebook), []);
  });

  it("stretches every cell's timeout by the backend's time scale, as on VMs under software emulation", async () => {
    class SlowNodes extends NetnsBackend {
      timeScale(): number {
        return 3;
      }
    }
    const result = await runHeadless(
      writeFixture("scaled", [
        { id: "scale", source: `console.log("scale", process.env.LABBOOK_TIME_SCALE);` },
        { id: "slow", timeout: 1, source: `await new Promise((r) => setTimeout(r, 1500));` },
        { id: "too-slow", timeout: 1, source: `await new Promise((r) => setTimeout(r, 60_000));` },
      ]),
      { keepGoing: true, backend: new SlowNodes() },
    );
    assert.match(JSON.stringify(outputsOf(executed(result), "scale")), /scale 3/);
    assert.equal(cell(result, "slow").status, "passed", "1.5 s is within 1 s × 3");
    assert.equal(cell(result, "too-slow").status, "timed-out");
    assert.match(cell(result, "too-slow").error!.message, /longer than its 3 s timeout/);
    assert.ok(cell(result, "too-slow").durationMs < 20_000);
  });

  it("loads the whole SDK under tslab's own TypeScript 5.0 without type errors, and type-checks against it", async () => {
    const everything = [
      `import { cluster, check, reaches, hasRoute, hasRule, fileContains, Cluster, Node, CommandResult, CommandError, CLUSTER_VARIABLE } from "labbook";`,
      `import type { CheckOptions, ReachOptions, RouteExpectation, CheckOutcome } from "labbook";`,
      `const c: Cluster = await cluster();`,
      `const n: Node = c.node("node1");`,
      `const r: CommandResult = await n.$({ nothrow: true, timeout: 5000 })\`echo \${"a b"}\`;`,
      `const fields: [string, string, number | null, number, boolean] = [r.node, r.stdout, r.exitCode, r.durationMs, r.timedOut];`,
      `const many: CommandResult[] = await c.all.$\`hostname\`;`,
      `const options: CheckOptions = { within: 1000, every: 100, points: 2 };`,
      `const reach: ReachOptions = { port: 22 };`,
      `const route: RouteExpectation = { via: "192.168.0.1", dev: "eth0" };`,
      `await check("ssh port", () => reaches(n, "192.168.0.12", reach), options);`,
      `await check("default route", () => hasRoute(n, "0.0.0.0/0", route));`,
      `await check("no nat rules yet", async () => { try { await hasRule(n, "nat", "POSTROUTING", "MASQUERADE"); return false; } catch { return "none"; } });`,
      `await check("hosts", () => fileContains(n, "/etc/hosts", /node2/));`,
      `const unused: CheckOutcome | undefined = undefined; const e: typeof CommandError = CommandError;`,
      `console.log(fields.length, many.length, CLUSTER_VARIABLE, unused, e.name);`,
    ].join("\n");
    const result = await run(
      writeFixture("sdk-types", [
        { id: "everything", source: everything },
        { id: "misuse", source: `import { check } from "labbook";\nawait check(42, () => true);` },
      ]),
      true,
    );
    assert.equal(cell(result, "everything").status, "passed", JSON.stringify(cell(result, "everything").error));
    assert.deepEqual(cell(result, "everything").checks.map((c) => c.passed), [true, true, true, true]);
    assert.equal(cell(result, "misuse").error?.name, "TypeScriptError");
    assert.match(cell(result, "misuse").error!.message, /Argument of type 'number' is not assignable to parameter of type 'string'/);
  });

  it("stops at the first failing required cell without --keep-going, and still runs teardown", async () => {
    const result = await run(
      writeFixture("stop", [
        { id: "setup", role: "setup", source: IMPORT },
        { id: "fails", source: `throw new Error("stop here");` },
        { id: "never", source: `console.log("must not run");` },
        { id: "cleanup", role: "teardown", source: `console.log("teardown ran");` },
      ]),
      false,
    );
    assert.deepEqual(result.cells.map((c) => [c.id, c.status]), [["setup", "passed"], ["fails", "failed"], ["never", "skipped"], ["cleanup", "passed"]]);
    assert.match(cell(result, "never").skipReason!, /an earlier required cell \(fails\) failed/);
  });
});
