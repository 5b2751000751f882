// The layers on top of grading's raw scores, recomputed at every write and export: overrides, deadlines with
// extensions, and the exports an LMS imports. Pure: no cluster.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCourseFile } from "../../runner/course/course-file.ts";
import { csvText, parseCsv } from "../../runner/grade/csv.ts";
import { exportGradebook } from "../../runner/grade/export.ts";
import { loadLayers, withFinalScores } from "../../runner/grade/final-scores.ts";
import type { Gradebook } from "../../runner/grade/gradebook.ts";
import { deadlinesFor, lateness } from "../../runner/grade/late.ts";
import { applyOverrides, readOverrides } from "../../runner/grade/overrides.ts";
import type { StudentGrade } from "../../runner/grade/score.ts";
import type { Notebook } from "../../runner/notebook/types.ts";

const dir = mkdtempSync(join(tmpdir(), "labbook-layers-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

function grade(student: string, passed: boolean[], extra: Partial<StudentGrade> = {}): StudentGrade {
  const checks = passed.map((p, i) => ({ cell: "hidden", name: `check ${i + 1}`, passed: p, points: 1, hint: "h", detail: "d" }));
  const earned = (3 * passed.filter(Boolean).length) / passed.length;
  return { student, file: `${student}.ipynb`, status: "graded", total: earned, max: 3, exercises: [{ id: "ex", max: 3, earned, submitted: true, checks }], visibleChecks: [], exerciseCells: [], notes: [], suspicious: [], durationMs: 1, ...extra };
}

const book = (students: StudentGrade[]): Gradebook => ({ lab: "k1", labVersion: "v", exercises: [{ id: "ex", points: 3 }], gradedAt: "2026-01-01T00:00:00Z", students });

describe("grade: overrides, deadlines and exports", () => {
  it("reads and writes CSV as spreadsheets do: quotes, doubled quotes, newlines, a BOM, formulas defused", () => {
    assert.deepEqual(parseCsv('\uFEFFa,b\r\n"x, y","say ""hi""\nthere"\n\n'), [["a", "b"], ["x, y", 'say "hi"\nthere']]);
    assert.equal(csvText([["=cmd()", "-1", "ok"]]), "'=cmd(),-1,ok\n");
  });

  it("applies an exercise override outright and a check override as its share, keeping the raw score", () => {
    const overrides = readOverrides(file("o.csv", "student,target,points,comment\nann,ex,2.5,regraded by hand\nbob,check 2,1,the check was too strict\nzed,ex,3,no such student\n"));
    const ann = applyOverrides(grade("ann", [true, false, false]), overrides);
    assert.equal(ann.grade.total, 2.5);
    assert.deepEqual(ann.applied.map((a) => [a.kind, a.before, a.points, a.comment]), [["exercise", 1, 2.5, "regraded by hand"]]);
    const bob = applyOverrides(grade("bob", [true, false, false]), overrides);
    assert.equal(bob.grade.total, 2, "check 1 and check 2 of 3 now count");
    const { unmatched } = withFinalScores(book([grade("ann", [true]), grade("bob", [true, false, false])]), { overrides, overridesFile: "o.csv", deadlines: { extensions: new Map(), submitted: new Map() } });
    assert.deepEqual(unmatched.map((o) => o.student), ["zed"]);
    assert.throws(() => readOverrides(file("bad.csv", "student,target,points\nann,ex,lots\n")), /bad\.csv:2: points must be a number/);
    assert.throws(() => readOverrides(file("bad2.csv", "who,what\n")), /lacks student, target, points/);
  });

  it("takes a late penalty per day late (a part of one counting), capped, after a student's extension", () => {
    const course = readCourseFile(file("labbook.yaml", `labs:\n  k1:\n    due: 2026-12-10T23:59:00Z\n    late: { per-day: 10%, cap: 25% }\nextensions: ext.csv\nsubmitted: sub.csv\n`));
    file("ext.csv", "student,lab,days\ncarol,k1,2\ncarol,other,9\n");
    file("sub.csv", "student,submitted_at\ndan,2026-12-11T00:30:00Z\n");
    const deadlines = deadlinesFor(course, "k1");
    assert.equal(lateness(deadlines, "ann", "2026-12-10T23:00:00Z")!.daysLate, 0);
    assert.equal(lateness(deadlines, "bob", "2026-12-12T10:00:00Z")!.daysLate, 2);
    assert.equal(lateness(deadlines, "bob", "2026-12-30T10:00:00Z")!.penaltyFraction, 0.25, "capped");
    assert.equal(lateness(deadlines, "carol", "2026-12-12T10:00:00Z")!.daysLate, 0, "two days' extension");
    assert.equal(lateness(deadlines, "dan", "2026-12-01T00:00:00Z")!.daysLate, 1, "the manifest's time, not the file's");
    const layers = { overrides: [], overridesFile: "none", course, deadlines };
    const { views, book: recorded } = withFinalScores(book([grade("bob", [true, true, true], { submittedAt: "2026-12-12T10:00:00Z" })]), layers);
    assert.equal(views[0]!.total, 2.4);
    assert.deepEqual([recorded.students[0]!.total, recorded.students[0]!.final!.raw, recorded.students[0]!.final!.latePenalty], [3, 3, 0.6], "gradebook.json keeps the raw score");
    assert.throws(() => readCourseFile(file("c2.yaml", "labs:\n  k1:\n    late: { per-day: lots }\n")), /labs\.k1\.late\.per-day must be a percentage/);
    assert.throws(() => readCourseFile(file("c3.yaml", "lab: {}\n")), /unknown key lab/);
  });

  it("finds overrides.csv beside the gradebook and the course file above the lab", () => {
    const course = join(dir, "course");
    file("course-o.csv", "");
    const layers = loadLayers({ lab: "k1" }, dir);
    assert.equal(layers.overrides.length, 0);
    assert.equal(layers.overridesFile, join(dir, "overrides.csv"));
    assert.equal(loadLayers({ lab: "k1", labPath: join(course, "k1", "k1.ipynb") }, dir).course?.path, join(dir, "labbook.yaml"));
  });

  it("exports Canvas's and Moodle's import layouts, with a feedback file per student", () => {
    const b = { ...book([grade("ann", [true, true, false]), grade("bob", [true, true, true])]), title: "K1" };
    const roster = new Map([["ann", { student: "ann", name: "Ann A", sis_login_id: "ann01", section: "S1", email: "ann@example.org" }]]);
    const canvas = exportGradebook(b, b.students, "canvas", join(dir, "k1-canvas.csv"), roster);
    assert.deepEqual(parseCsv(readFileSync(canvas.file, "utf8")), [
      ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "K1 (k1)"],
      ["Points Possible", "", "", "", "", "3"],
      ["Ann A", "", "", "ann01", "S1", "2"],
      ["bob", "", "", "bob", "", "3"],
    ]);
    assert.match(readFileSync(join(canvas.feedbackDir, "ann_k1_feedback.html"), "utf8"), /Score: 2 \/ 3/);
    const moodle = exportGradebook(b, b.students, "moodle", join(dir, "k1-moodle.csv"), roster);
    const rows = parseCsv(readFileSync(moodle.file, "utf8"));
    assert.deepEqual(rows[0], ["ID number", "Email address", "K1 (k1)", "K1 (k1) feedback"]);
    assert.deepEqual(rows[1]!.slice(0, 3), ["ann", "ann@example.org", "2"]);
  });
});

describe("grade: per-student variants", () => {
  it("picks a student's variant by hash(secret, lab, student): stable, spread, and another secret another pick", async () => {
    const { variantKey } = await import("../../runner/grade/variants.ts");
    const { labVariants } = await import("../../runner/notebook/variants.ts");
    assert.equal(variantKey("s3cret-course", "k1", "ann", 3), variantKey("s3cret-course", "k1", "ann", 3));
    const keys = Array.from({ length: 300 }, (_, i) => variantKey("s3cret-course", "k1", `student${i}`, 3));
    const counts = ["v1", "v2", "v3"].map((k) => keys.filter((x) => x === k).length);
    assert.ok(counts.every((n) => n > 70), `spread: ${counts.join(", ")}`);
    const other = Array.from({ length: 300 }, (_, i) => variantKey("another-secret", "k1", `student${i}`, 3));
    assert.ok(other.filter((k, i) => k !== keys[i]).length > 100, "the secret decides");
    const nb = (labbook: object): Notebook => ({ nbformat: 4, nbformat_minor: 5, metadata: { labbook }, cells: [] });
    assert.equal(labVariants(nb({ variants: 4 }), "x.ipynb"), 4);
    assert.equal(labVariants(nb({}), "x.ipynb"), undefined);
    assert.throws(() => labVariants(nb({ variants: "many" }), "x.ipynb"), /x\.ipynb: metadata\.labbook\.variants must be/);
  });

  it("the SDK's seed is LABBOOK_SEED, else the variant of the one notebook in the kernel's folder, else 0", async () => {
    const { labSeed, SEED_VARIABLE, VARIANTS_VARIABLE } = await import("../../runner/sdk/seed.ts");
    const folder = mkdtempSync(join(tmpdir(), "labbook-variant-"));
    const cwd = process.cwd();
    const saved = { seed: process.env[SEED_VARIABLE], variants: process.env[VARIANTS_VARIABLE] };
    delete process.env[SEED_VARIABLE];
    delete process.env[VARIANTS_VARIABLE];
    try {
      process.chdir(folder);
      assert.equal(labSeed(), "0");
      writeFileSync(join(folder, "k1.ipynb"), JSON.stringify({ metadata: { labbook: { id: "k1", variant: "v2" } }, cells: [] }));
      assert.equal(labSeed(), "v2");
      writeFileSync(join(folder, "k1.ipynb"), JSON.stringify({ metadata: { labbook: { id: "k1" } }, cells: [] }));
      process.env[VARIANTS_VARIABLE] = JSON.stringify({ k1: "v3" });
      assert.equal(labSeed(), "v3", "labbook notebook --student");
      process.env[SEED_VARIABLE] = "explicit";
      assert.equal(labSeed(), "explicit");
    } finally {
      process.chdir(cwd);
      for (const [name, value] of [[SEED_VARIABLE, saved.seed], [VARIANTS_VARIABLE, saved.variants]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
