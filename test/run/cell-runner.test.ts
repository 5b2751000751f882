// The process that runs hidden checks when grading: what the labs' grader-setup and hidden cells need
// of a kernel (names and imports shared across cells, top-level await, output, checks as display_data,
// errors), and a timeout or a death that ends it without taking the run with it.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Message } from "../../runner/kernel/wire.ts";
import { CellRunner } from "../../runner/run/cell-runner.ts";
import { OutputCollector } from "../../runner/run/outputs.ts";

// Outside the checkout, as a lab's folder may be: only node_modules/labbook resolves there, not tsx, which
// this test process was started with.
const REPO = fileURLToPath(new URL("../../", import.meta.url));
const WORK = mkdtempSync(join(tmpdir(), "labbook-cell-runner-"));
mkdirSync(join(WORK, "node_modules"));
symlinkSync(REPO, join(WORK, "node_modules", "labbook"));

async function run(runner: CellRunner, code: string, timeoutMs = 10_000) {
  const collector = new OutputCollector();
  const execution = await runner.execute(code, timeoutMs, (message: Message) => collector.add(message));
  return { execution, collector, text: collector.outputs.map((o) => ("text" in o ? String(o.text) : "")).join("") };
}

describe("the hidden checks' cell runner", function () {
  this.timeout(30_000);
  const runner = new CellRunner({ cwd: WORK, env: {} });
  after(async () => {
    await runner.close();
    rmSync(WORK, { recursive: true, force: true });
  });

  it("shares imports, declarations (destructured, functions, classes) and awaited values across cells", async () => {
    const first = await run(runner, `import { check, type CheckOptions } from "labbook";
const options: CheckOptions = { points: 2 };
const [a, { b }] = [1, { b: await Promise.resolve(2) }];
function twice(n: number): number { return 2 * n; }
class Box { constructor(readonly v: number) {} }
let later: string | undefined;`);
    assert.equal(first.execution.kind === "replied" && first.execution.reply.status, "ok", first.text);
    const second = await run(runner, `later = "set"; console.log(a + b, twice(b), new Box(5).v, later, typeof check, options.points);`);
    assert.equal(second.text, "3 4 5 set function 2\n");
  });

  it("publishes the SDK's checks as display_data the runner reads", async () => {
    const { collector } = await run(runner, `await check("adds up", async () => { if (twice(a) !== 2) throw new Error("no"); return "2"; }, { points: 3 });
await check("fails", async () => { throw new Error("as it should"); }).catch(() => undefined);`);
    assert.deepEqual(collector.checks.map((c) => [c.name, c.passed, c.points]), [["adds up", true, 3], ["fails", false, undefined]]);
  });

  it("reports a thrown error as the cell's error, and goes on with the next cell", async () => {
    const failed = await run(runner, `throw new TypeError("broken " + a);`);
    assert.equal(failed.execution.kind === "replied" && failed.execution.reply.status, "error");
    assert.deepEqual(failed.collector.outputs.filter((o) => o.output_type === "error").map((o) => "ename" in o && [o.ename, o.evalue]), [["TypeError", "broken 1"]]);
    assert.equal((await run(runner, "console.log(b)")).text, "2\n");
  });

  it("ends a cell that runs past its timeout, and starts afresh for the next", async () => {
    const started = Date.now();
    const looping = await run(runner, "while (true) {}", 1000);
    assert.deepEqual(looping.execution, { kind: "timed-out", restarted: true });
    assert.ok(Date.now() - started < 5000);
    assert.equal((await run(runner, "console.log(typeof a)")).text, "undefined\n", "names survived the restart");
  });

  it("reports a process that dies in a cell as kernel-died", async () => {
    const died = await run(runner, "process.exit(7)");
    assert.equal(died.execution.kind, "died");
    assert.equal((await run(runner, "console.log('again')")).text, "again\n");
  });
});
