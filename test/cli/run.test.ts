// `labbook run` as CI runs it: exit codes, reports, and errors that name the file.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { labbook } from "../helpers/cli.ts";
import { writeFixture, writeRaw } from "../helpers/notebooks.ts";
import { parseXml } from "../report/xml.ts";

describe("labbook run (CLI)", function () {
  this.timeout(120_000);

  it("exits 2 for a malformed notebook, naming it, before starting anything", async () => {
    const path = writeRaw("broken.ipynb", "{ nope");
    const result = await labbook(["run", path]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`labbook: ${path}: not a notebook: invalid JSON`));
    const missing = await labbook(["run", "/nonexistent/lab.ipynb"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /\/nonexistent\/lab\.ipynb: no such notebook or directory/);
  });

  it("exits 0 for a passing lab and writes the executed notebook and every report", async () => {
    const out = mkdtempSync(join(tmpdir(), "labbook-out-"));
    const path = writeFixture("cli-pass", [
      { id: "title", markdown: true, source: "# CLI fixture" },
      { id: "setup", role: "setup", source: `import { cluster, check, hasRoute } from "labbook";\nconst c = await cluster();` },
      { id: "route", role: "check", source: `await check("default route", () => hasRoute(c.node("node2"), "0.0.0.0/0", { via: "192.168.0.1" }));` },
      { id: "kube", requires: ["kubernetes"], source: `console.log("k8s")` },
    ]);
    const result = await labbook(["run", path, "--report", "junit,json,html,md", "--out", out]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /✔ default route/);
    assert.match(result.stdout, /2 passed, 0 failed, 1 skipped/);
    for (const file of ["cli-pass.ipynb", "junit.xml", "results.json", "cli-pass.html", "summary.md"]) assert.ok(existsSync(join(out, file)), `${file} was not written`);
    const junit = readFileSync(join(out, "junit.xml"), "utf8");
    assert.doesNotThrow(() => parseXml(junit), "junit.xml is not well-formed");
    assert.match(junit, /<skipped message="needs kubernetes/);
  });

  it("exits 1 when a check fails", async () => {
    const path = writeFixture("cli-fail", [
      { id: "setup", role: "setup", source: `import { cluster, check, fileContains } from "labbook";\nconst c = await cluster();` },
      { id: "file", role: "check", source: `await check("motd says hi", () => fileContains(c.node("node1"), "/etc/hostname", "hi"));` },
    ]);
    const result = await labbook(["run", path, "--out", mkdtempSync(join(tmpdir(), "labbook-out-"))]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /✘ motd says hi/);
    assert.match(result.stdout, /node1:\/etc\/hostname does not contain hi; it reads:\s+node1/);
  });
});
