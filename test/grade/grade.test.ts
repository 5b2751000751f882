// labbook grade end to end, as an instructor runs it: lab 02 and a class of submissions (correct,
// partial, wrong, untouched, malicious, broken), each on its own cluster. Every score is asserted
// exactly; --jobs 1 and --jobs 4, and two shards merged, give the same gradebook.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { planLab } from "../../runner/grade/lab-plan.ts";
import type { Gradebook } from "../../runner/grade/gradebook.ts";
import { sourceText } from "../../runner/notebook/types.ts";
import { labbook } from "../helpers/cli.ts";
import { FIXTURES, LAB_02, NODE_WRITE_MARK, PROJECT, studentOf, writeSubmissions } from "./submissions.ts";

const work = mkdtempSync(join(tmpdir(), "labbook-grade-test-"));
const classDir = join(work, "class");
const out = join(work, "grades");

function csvRows(dir: string, students?: Set<string>): string[] {
  const [header, ...rows] = readFileSync(join(dir, "gradebook.csv"), "utf8").trim().split("\n");
  return [header!, ...rows.filter((row) => !students || students.has(row.split(",")[0]!))];
}

describe("labbook grade (lab 02, a class of 22 submissions)", function () {
  this.timeout(600_000);
  let run: Awaited<ReturnType<typeof labbook>>;
  let book: Gradebook;

  before(async () => {
    mkdirSync(classDir, { recursive: true });
    writeSubmissions(classDir);
    run = await labbook(["grade", LAB_02, classDir, "--out", out, "--jobs", "4", "--timeout", "5"]);
    book = JSON.parse(readFileSync(join(out, "gradebook.json"), "utf8")) as Gradebook;
  });

  it("finishes the batch with exit code 0 and shows progress: N of M and the running mean", () => {
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /reference: the solution passes all 4 hidden checks/);
    assert.match(run.stdout, new RegExp(`\\[${FIXTURES.length}/${FIXTURES.length}\\] .*\\(mean \\d+\\.\\d\\d,`));
    assert.match(run.stdout, /graded 22 in .* per minute\): mean \d/);
  });

  for (const fixture of FIXTURES) {
    it(`${fixture.name}: scores exactly ${fixture.total} (${fixture.status})`, () => {
      const grade = book.students.find((s) => s.student === studentOf(fixture));
      assert.ok(grade, `no row for ${studentOf(fixture)}: ${book.students.map((s) => s.student).join(", ")}`);
      const failed = grade.exercises.flatMap((e) => e.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`));
      assert.equal(grade.status, fixture.status, grade.reason);
      assert.equal(grade.total, fixture.total, `failed checks:\n${failed.join("\n")}\nnotes: ${grade.notes.join("; ")}`);
      assert.equal(grade.max, 3);
      if (fixture.says) assert.match([grade.reason ?? "", ...grade.notes].join("\n"), fixture.says);
    });
  }

  it("writes gradebook.csv with one row per student, columns per exercise and in total", () => {
    const rows = csvRows(out);
    assert.equal(rows[0], "student,exercise-node3 (3),raw,overrides,late days,late penalty,total,max,status,reason,suspicious");
    assert.equal(rows.length, FIXTURES.length + 1);
    assert.ok(rows.includes("partial,1.5,1.5,,,,1.5,3,graded,,"), rows.join("\n"));
    // What reaches around the SDK is flagged, not scored: the gradebook's suspicious column.
    const flags = (student: string) => rows.find((row) => row.startsWith(`${student},`))!.split(",").at(-1)!;
    assert.match(flags("fakes-checks"), /lab-check-name/);
    assert.match(flags("fakes-checks"), /check-mime/);
    assert.equal(flags("correct"), "");
  });

  it("feedback names each hidden check and its hint, never its code or what it observed", () => {
    const plan = planLab(LAB_02);
    const hiddenLines = plan.hiddenChecks.flatMap((h) => sourceText(h.cell.source).split("\n")).map((l) => l.trim()).filter((l) => l.length > 20);
    for (const student of ["partial", "untouched", "fakes-checks"]) {
      for (const file of ["feedback.md", "feedback.html"]) {
        const text = readFileSync(join(out, "students", student, file), "utf8");
        assert.match(text, /node2\/c1 reaches 172\.19\.0\.2/);
        assert.match(text, /Every container must reach every other one/);
        for (const line of hiddenLines) assert.ok(!text.includes(line), `${student}/${file} leaks hidden-check code: ${line}`);
        assert.ok(!/PING|100% packet loss|did not run/.test(text), `${student}/${file} shows what a hidden check observed`);
      }
    }
    assert.match(readFileSync(join(out, "students", "partial", "feedback.md"), "utf8"), /\*\*Score: 1\.5 \/ 3\*\*/);
  });

  it("writes JUnit with a testcase per hidden check per student", () => {
    const xml = readFileSync(join(out, "junit.xml"), "utf8");
    assert.equal((xml.match(/<testsuite /g) ?? []).length, FIXTURES.length);
    assert.match(xml, /<testcase classname="partial" name="exercise-node3 \/ hidden-node3: node2\/c1 reaches 172\.19\.0\.2"><failure/);
  });

  it("keeps each executed notebook small though a student printed 50 MB", () => {
    const executed = join(out, "students", "prints-50mb", "02-cross-host-routes.ipynb");
    assert.ok(statSync(executed).size < 5 * 1024 * 1024, `${statSync(executed).size} bytes`);
    assert.match(readFileSync(executed, "utf8"), /more bytes of output were dropped/);
  });

  it("keeps what a student's node commands wrote inside the node (the host's files are read-only there), and leaves no work files", () => {
    for (const dir of ["/tmp", "/root", "/var/lib/cni", "/etc/cni/net.d"]) assert.ok(!existsSync(join(dir, NODE_WRITE_MARK)), `${dir}/${NODE_WRITE_MARK} reached the host`);
    assert.ok(!existsSync(join(PROJECT, "dist", "sdk", `${NODE_WRITE_MARK}.js`)), "a node command wrote into the SDK the hidden checks import");
    assert.deepEqual(readdirSync(out).filter((n) => n.startsWith(".work")), []);
  });

  describe("scheduling does not change scores", () => {
    const subset = ["correct", "partial", "untouched", "invalid-json", "exits-after-work"];
    const small = join(work, "small");

    before(() => {
      mkdirSync(small, { recursive: true });
      writeSubmissions(small, FIXTURES.filter((f) => subset.includes(f.name)));
    });

    it("--jobs 1 gives the same gradebook as --jobs 4", async () => {
      const serial = join(work, "serial");
      const result = await labbook(["grade", LAB_02, small, "--out", serial, "--jobs", "1", "--timeout", "5"]);
      assert.equal(result.code, 0, result.stderr + result.stdout);
      assert.deepEqual(csvRows(serial), csvRows(out, new Set(subset)));
    });

    it("--shard 1/2 and 2/2, merged, give the same gradebook as one run", async () => {
      const shards = [join(work, "shard1"), join(work, "shard2")];
      // At once, as two CI matrix jobs would run them.
      const results = await Promise.all(shards.map((dir, index) => labbook(["grade", LAB_02, small, "--out", dir, "--jobs", "2", "--shard", `${index + 1}/2`, "--timeout", "5"])));
      for (const result of results) assert.equal(result.code, 0, result.stderr + result.stdout);
      const sizes = shards.map((dir) => csvRows(dir).length - 1);
      assert.deepEqual(sizes, [3, 2], "a shard is every 2nd submission of the sorted list");
      const merged = join(work, "merged");
      const result = await labbook(["gradebook", "merge", ...shards, "--out", merged]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(csvRows(merged), csvRows(out, new Set(subset)));
      assert.ok(existsSync(join(merged, "students", "partial", "feedback.html")));
      const twice = await labbook(["gradebook", "merge", shards[0]!, shards[0]!, "--out", join(work, "bad")]);
      assert.equal(twice.code, 1);
      assert.match(twice.stderr, /student "correct" is in both/);
    });
  });
});
