// The instructor's class report (grades/report.html), opened in a real (headless) Chromium: the score chart, the
// hidden checks sorted by the points they cost with their failures grouped, so the misconception that cost most
// stands out, timings, and the suspicious ones. A class of 20 with two misconceptions, one far commoner.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { foldMessage } from "../../runner/grade/class-report.ts";
import { loadLayers } from "../../runner/grade/final-scores.ts";
import type { Gradebook } from "../../runner/grade/gradebook.ts";
import { writeGradebookFiles } from "../../runner/grade/gradebook-files.ts";
import type { StudentGrade } from "../../runner/grade/score.ts";
import { launchChromium } from "../helpers/chromium.ts";

const SCREENSHOT = fileURLToPath(new URL("../../test-output/grade/class-report.png", import.meta.url));

function student(i: number): StudentGrade {
  // 12 of 20 leave the vxlan MTU at 1500 (2 points each), 3 miss the route (1 point), one is flagged.
  const mtuWrong = i < 12;
  const routeWrong = i >= 12 && i < 15;
  const checks = [
    { cell: "hidden-mtu", name: "pods on vxlan have MTU 1450", passed: !mtuWrong, points: 2, hint: "vxlan adds 50 bytes of headers.", detail: mtuWrong ? `iperf-${i} has MTU 1500 on 10.244.${i}.2/24` : "1450" },
    { cell: "hidden-route", name: "node3 routes the pod network", passed: !routeWrong, points: 1, hint: "node3 needs a route.", detail: routeWrong ? `no route to 10.244.${i}.0/24 (took ${i * 100} ms)` : "ok" },
  ];
  const earned = checks.filter((c) => c.passed).reduce((s, c) => s + c.points, 0);
  return {
    student: `s${String(i).padStart(2, "0")}`, file: `s${i}.ipynb`, status: "graded", total: earned, max: 3,
    exercises: [{ id: "ex-vxlan", max: 3, earned, submitted: true, checks }], visibleChecks: [], exerciseCells: [], notes: [],
    suspicious: i === 19 ? [{ kind: "display-hook", detail: "the code of exercise \"ex-vxlan\" reaches for the kernel's display hook" }] : [],
    durationMs: 5000 + i * 100,
  };
}

describe("grade: the class report, in a browser", function () {
  this.timeout(60_000);

  it("folds the numbers and addresses of a failure message, so one misconception is one line", () => {
    assert.equal(foldMessage("iperf-3 has MTU 1500 on 10.244.3.2/24\nmore"), "iperf-<n> has MTU <n> on <address>");
  });

  it("shows the score chart, the costliest misconception first with its grouped failures, timings and the suspicious one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "labbook-report-"));
    const book: Gradebook = { lab: "05", title: "Flannel's backends", labVersion: "v", exercises: [{ id: "ex-vxlan", points: 3 }], gradedAt: "2026-12-03T00:00:00Z", students: Array.from({ length: 20 }, (_, i) => student(i)) };
    const { written } = writeGradebookFiles(dir, book, loadLayers(book, dir));
    const report = written.find((w) => w.endsWith("report.html"))!;
    const browser = await launchChromium();
    try {
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      await page.goto(`file://${report}`);
      assert.match((await page.textContent("#summary"))!, /20 submissions: 20 graded, 0 rejected, 0 not graded \(errors\)\. Final scores: mean 1\.65, median 1 of 3/);
      const bars = await page.$$eval("svg.histogram .bar", (rects) => rects.map((r) => Number(r.getAttribute("data-count")) * (r.getBoundingClientRect().height > 0 || r.getAttribute("data-count") === "0" ? 1 : -1000)));
      assert.equal(bars.reduce((a, b) => a + b, 0), 20, `every student in a visible bar: ${bars.join(", ")}`);
      const rows = await page.$$eval("#checks tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent!.trim())));
      assert.equal(rows[0]![1], "pods on vxlan have MTU 1450");
      assert.match(rows[0]![2]!, /^60% \(12 of 20\)/);
      assert.equal(rows[0]![3], "24");
      assert.match(rows[0]![5]!, /iperf-<n> has MTU <n> on <address> × 12/);
      assert.equal(rows[1]![1], "node3 routes the pod network");
      assert.match(rows[1]![5]!, /no route to <address> \(took <n> ms\) × 3/);
      assert.match((await page.textContent("#timing"))!, /median 6\.0 s, 90th percentile 6\.8 s, longest 6\.9 s \(s19 6\.9 s/);
      assert.match((await page.textContent("#suspicious"))!, /s19\s*display-hook/);
      mkdirSync(join(SCREENSHOT, ".."), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
