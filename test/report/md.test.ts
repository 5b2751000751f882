import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { markdownReporter } from "../../runner/report/md.ts";
import { BROKEN, ROUTING, runSummary } from "./fixture.ts";

describe("markdown summary reporter", () => {
  let outDir: string;
  const savedStepSummary = process.env.GITHUB_STEP_SUMMARY;

  beforeEach(async () => {
    outDir = await mkdtemp(path.join(os.tmpdir(), "labbook-md-"));
    delete process.env.GITHUB_STEP_SUMMARY;
  });
  afterEach(async () => {
    if (savedStepSummary === undefined) delete process.env.GITHUB_STEP_SUMMARY;
    else process.env.GITHUB_STEP_SUMMARY = savedStepSummary;
    await rm(outDir, { recursive: true, force: true });
  });

  it("writes a table row per notebook with its cell counts", async () => {
    const written = await markdownReporter(outDir).onRunEnd!(runSummary());
    assert.deepEqual(written, [path.join(outDir, "summary.md")]);
    const text = await readFile(written[0]!, "utf8");
    assert.match(text, /^### labbook: 2 passed, 3 failed, 1 skipped \(42\.0 s\)\n/);
    assert.match(text, /\| \| Notebook \| Passed \| Failed \| Skipped \| Duration \|\n\|---\|---\|--:\|--:\|--:\|--:\|\n/);
    assert.match(text, /\| ❌ \| Routing between nodes \| 2 \| 2 \| 1 \| 40\.0 s \|\n/);
    assert.match(text, /\| 💥 \| Broken lab \| 0 \| 0 \| 0 \| 2\.0 s \|\n/);
  });

  it("lists each failure on one line of at most 200 characters of message, markup escaped", async () => {
    const summary = runSummary();
    summary.notebooks[0]!.cells[2]!.checks[1]!.message = `first line\n${"x".repeat(300)}`;
    const text = await readFile((await markdownReporter(outDir).onRunEnd!(summary))[0]!, "utf8");
    const bullets = text.split("\n").filter((line) => line.startsWith("- "));
    assert.equal(bullets.length, 3);
    const [check, timeout, broken] = bullets;
    assert.ok(check!.startsWith(`- ${ROUTING.replace(/_/g, "\\_")} \`check-routes\` route to 10.0.0.0/8: first line xxx`), check);
    assert.ok(check!.endsWith("x…"), check);
    assert.ok(check!.length < ROUTING.length + 60 + 200, `${check!.length} characters`);
    assert.match(timeout!, /`slow` timed out: Timeout: cell ran past 30 s$/);
    assert.equal(broken, `- ${BROKEN} infrastructure error: kernel would not start: tslab not found`);
  });

  it("escapes markup in titles and messages", async () => {
    const summary = runSummary();
    summary.notebooks[0]!.title = "a | b <img>";
    const text = await readFile((await markdownReporter(outDir).onRunEnd!(summary))[0]!, "utf8");
    assert.match(text, /\| a \\\| b \\<img\\> \|/);
    assert.match(text, /no route \\<via\\> "node2" \\& bell second line/);
  });

  it("appends the same text to the GitHub step summary when there is one", async () => {
    const stepSummary = path.join(outDir, "step-summary.md");
    await writeFile(stepSummary, "earlier step\n");
    process.env.GITHUB_STEP_SUMMARY = stepSummary;
    const written = await markdownReporter(path.join(outDir, "reports")).onRunEnd!(runSummary());
    assert.deepEqual(written, [path.join(outDir, "reports", "summary.md"), stepSummary]);
    const own = await readFile(written[0]!, "utf8");
    assert.equal(await readFile(stepSummary, "utf8"), `earlier step\n${own}`);
  });
});
