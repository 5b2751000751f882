import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { junitReporter } from "../../runner/report/junit.ts";
import { BROKEN, ROUTING, runSummary } from "./fixture.ts";
import { descendants, parseXml, type XmlElement } from "./xml.ts";

describe("junit reporter", () => {
  let outDir: string;
  let suites: XmlElement[];
  let written: string[];

  before(async () => {
    outDir = await mkdtemp(path.join(os.tmpdir(), "labbook-junit-"));
    written = await junitReporter(outDir).onRunEnd!(runSummary());
    suites = descendants(parseXml(await readFile(path.join(outDir, "junit.xml"), "utf8")), "testsuite");
  });
  after(() => rm(outDir, { recursive: true, force: true }));

  const testCase = (suite: XmlElement, name: string) => {
    const found = descendants(suite, "testcase").find((c) => c.attributes.name === name);
    assert.ok(found, `no testcase "${name}"`);
    return found;
  };

  it("writes well-formed XML to <outDir>/junit.xml and says so", () => {
    assert.deepEqual(written, [path.join(outDir, "junit.xml")]);
    assert.equal(suites.length, 2);
  });

  it("has a suite per notebook, named by its path, with the right counts", () => {
    const [routing, broken] = suites;
    assert.deepEqual(
      { ...routing!.attributes, timestamp: undefined },
      { name: ROUTING, tests: "6", failures: "1", errors: "1", skipped: "1", time: "40.000", timestamp: undefined },
    );
    assert.equal(broken!.attributes.name, BROKEN);
    assert.equal(descendants(routing!, "testcase").every((c) => c.attributes.classname === ROUTING), true);
  });

  it("has a testcase per check and per code cell without checks, none for markdown", () => {
    const names = descendants(suites[0]!, "testcase").map((c) => c.attributes.name);
    assert.deepEqual(names, [
      "setup: const html = '<script>'",
      "check-routes: node1 reaches node2",
      "check-routes: route to 10.0.0.0/8",
      "slow: await sleep(forever)",
      "needs-ipv6: ipv6 exercise",
      "graded: all nodes ready",
    ]);
  });

  it("reports a failed check as a failure with its message, control characters stripped", () => {
    const failure = testCase(suites[0]!, "check-routes: route to 10.0.0.0/8").children[0]!;
    assert.equal(failure.name, "failure");
    assert.equal(failure.attributes.message, 'no route <via> "node2" & bell\nsecond line');
    assert.match(failure.text, /no route <via> "node2" & bell\nsecond line\n\(3 attempts\)/);
  });

  it("reports a skipped cell with its reason, a timeout and a broken notebook as errors", () => {
    assert.deepEqual(testCase(suites[0]!, "needs-ipv6: ipv6 exercise").children[0], { name: "skipped", attributes: { message: "requires ipv6" }, children: [], text: "" });
    const timeout = testCase(suites[0]!, "slow: await sleep(forever)").children[0]!;
    assert.equal(timeout.name, "error");
    assert.equal(timeout.attributes.message, "Timeout: cell ran past 30 s");
    const infrastructure = testCase(suites[1]!, "infrastructure").children[0]!;
    assert.equal(infrastructure.name, "error");
    assert.equal(infrastructure.attributes.message, "kernel would not start: tslab not found");
    assert.equal(testCase(suites[0]!, "graded: all nodes ready").children.length, 0);
  });
});

describe("xml well-formedness check", () => {
  it("rejects what a CI system's parser would", () => {
    for (const bad of ["<a><b></a>", '<a x="1" x="2"/>', "<a>&nbsp;</a>", "<a>\u0007</a>", '<a x="<"/>', "<a/><b/>", "<a>&#0;</a>"]) {
      assert.throws(() => parseXml(bad), Error, bad);
    }
    assert.equal(parseXml('<?xml version="1.0"?>\n<a x="&#10;">t&amp;t<b/></a>').text, "t&t");
  });
});
