import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { Figure } from "../../bench/cluster.bench.ts";
import {
  BENCHES,
  describeMachine,
  figureRow,
  formatDate,
  formatValue,
  mergeReport,
  parseSections,
  renderHeader,
  renderSection,
  type Section,
} from "../../bench/report.ts";

const HEADER = renderHeader("2026-12-03 10:00 UTC, `npm run bench`, on 2 cores.");

function section(name: string, what: string, measured = "2026-12-03 10:00 UTC"): Section {
  return { name, measured, command: "npm run bench", machine: "2 cores", rows: [{ what, median: "1 ms", p90: "2 ms", runs: "3", target: "" }] };
}

describe("bench report (docs/benchmarks.md)", () => {
  it("formats each unit as a reader would write it", () => {
    assert.equal(formatValue(4.7, "ms"), "4.70 ms");
    assert.equal(formatValue(38.46, undefined), "38.5 ms");
    assert.equal(formatValue(254.2, "ms"), "254 ms");
    assert.equal(formatValue(999.7, "ms"), "1.00 s");
    assert.equal(formatValue(9068, "ms"), "9.07 s");
    assert.equal(formatValue(106_040, "ms"), "1 min 46 s");
    assert.equal(formatValue(449_000, "ms"), "7 min 29 s");
    assert.equal(formatValue(59_990, "ms"), "1 min 0 s");
    assert.equal(formatValue(1.953, "x"), "1.95×");
    assert.equal(formatValue(22.71, "/min"), "22.7 per minute");
    assert.equal(formatValue(557.4, "MB"), "557 MB");
    assert.equal(formatValue(1915, "MB"), "1.87 GB");
    assert.equal(formatValue(Number.NaN, "MB"), "n/a");
  });

  it("turns a figure into a row: verdict with its target, no p90 for a single run", () => {
    const up: Figure = { name: "(a) 3-node cluster up", medianMs: 254, p90Ms: 285, runs: 15, target: "<= 300 ms", met: true };
    assert.deepEqual(figureRow(up), { what: "(a) 3-node cluster up", median: "254 ms", p90: "285 ms", runs: "15", target: "met: <= 300 ms" });
    const speedUp: Figure = { name: "speed-up", medianMs: 1.95, p90Ms: 1.95, runs: 1, unit: "x", target: ">= 2x", met: false };
    assert.deepEqual(figureRow(speedUp), { what: "speed-up", median: "1.95×", p90: "", runs: "1", target: "**MISS**: >= 2x" });
    const plain: Figure = { name: "    of which: certificates", medianMs: 330, p90Ms: 350, runs: 5 };
    assert.equal(figureRow(plain).what, "of which: certificates");
    assert.equal(figureRow(plain).target, "");
  });

  it("renders a section between its markers, with the date, command and machine, pipes escaped", () => {
    const text = renderSection({ ...section("cluster", "a | b"), command: "npm run bench -- --only=cluster" });
    const lines = text.split("\n");
    assert.equal(lines[0], "<!-- bench:cluster -->");
    assert.equal(lines.at(-1), "<!-- /bench:cluster -->");
    assert.ok(text.includes("Measured 2026-12-03 10:00 UTC with `npm run bench -- --only=cluster`, on 2 cores."), text);
    assert.ok(text.includes("| what | median | p90 | runs | target |\n| --- | --- | --- | --- | --- |\n| a \\| b | 1 ms | 2 ms | 3 |  |"), text);
  });

  it("describes the machine and the date", () => {
    assert.equal(
      describeMachine({ cpus: 2, cpuModel: "Xeon ", memoryBytes: 25_275_990_016, os: "Debian GNU/Linux 12 (bookworm)", kernel: "Linux 6.18.44", node: "v24.21.0" }),
      "2 cores (Xeon), 23.5 GB of memory, Debian GNU/Linux 12 (bookworm), Linux 6.18.44, Node v24.21.0",
    );
    assert.equal(describeMachine({ cpus: 1, memoryBytes: 2 ** 30, kernel: "Linux 6.1", node: "v24.21.0" }), "1 core, 1.0 GB of memory, Linux 6.1, Node v24.21.0");
    assert.equal(formatDate(new Date("2026-11-24T17:43:37.123Z")), "2026-11-24 17:43 UTC");
  });

  it("writes every section in bench order after the header, when there was no file", () => {
    const text = mergeReport(undefined, HEADER, [section("grade", "g"), section("cluster", "c")]);
    assert.ok(text.startsWith("# Benchmarks\n"));
    assert.ok(text.endsWith("<!-- /bench:grade -->\n"));
    assert.deepEqual([...parseSections(text).keys()], ["cluster", "grade"]);
  });

  it("replaces only the sections that ran, and keeps the others byte for byte", () => {
    const before = mergeReport(undefined, renderHeader("an older run."), [section("cluster", "old cluster", "2026-11-24"), section("labs", "old labs", "2026-11-24"), section("vagrant", "old vagrant", "2026-11-24")]);
    const after = mergeReport(before, HEADER, [section("labs", "new labs")]);
    const sections = parseSections(after);
    assert.deepEqual([...sections.keys()], ["cluster", "labs", "vagrant"]);
    assert.equal(sections.get("cluster"), parseSections(before).get("cluster"));
    assert.equal(sections.get("vagrant"), parseSections(before).get("vagrant"));
    assert.ok(sections.get("labs")!.includes("new labs"));
    assert.ok(!after.includes("old labs"));
    assert.ok(after.includes("Last run: 2026-12-03 10:00 UTC"));
    assert.ok(!after.includes("an older run."));
    // Merging the same result again changes nothing.
    assert.equal(mergeReport(after, HEADER, []), after);
  });

  it("keeps a section of a bench it does not know, after the known ones", () => {
    const before = mergeReport(undefined, HEADER, [section("retired", "r"), section("cluster", "c")]);
    const after = mergeReport(before, HEADER, [section("grade", "g")]);
    assert.deepEqual([...parseSections(after).keys()], ["cluster", "grade", "retired"]);
  });

  it("ignores a section whose closing marker is missing or names another bench", () => {
    const text = "<!-- bench:cluster -->\nbody\n<!-- /bench:labs -->\n<!-- bench:labs -->\nx\n<!-- /bench:labs -->\n";
    assert.deepEqual([...parseSections(text).keys()], ["labs"]);
  });

  it("docs/benchmarks.md has well-formed sections, one per bench at most", () => {
    const text = readFileSync(new URL("../../docs/benchmarks.md", import.meta.url), "utf8");
    const opened = [...text.matchAll(/<!-- bench:([\w.-]+) -->/g)].map((m) => m[1]);
    const sections = parseSections(text);
    assert.deepEqual([...sections.keys()], opened);
    for (const name of opened) assert.ok((BENCHES as readonly string[]).includes(name!), name);
    assert.equal(mergeReport(text, text.slice(0, text.indexOf("<!-- bench:")).trimEnd(), []), text);
  });
});
