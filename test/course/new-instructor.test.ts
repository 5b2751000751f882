// A new instructor's path, end to end, with a course folder of their own outside the checkout: `labbook init`,
// a lab written from the template, `lab build`, `run`, `check-lab`, `assign`, and grading six submissions
// (correct, partial, untouched, tampering, broken JSON, one that stands in for the lab's server) against a
// renamed copy of the lab that an instructor later edited. Each gap issue 19 found is asserted here.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Gradebook } from "../../runner/grade/gradebook.ts";
import type { CodeCell, Notebook } from "../../runner/notebook/types.ts";
import { labbook } from "../helpers/cli.ts";
import { parseCsv } from "../../runner/grade/csv.ts";
import { variantKey } from "../../runner/grade/variants.ts";
import { pickBySeed } from "../../runner/sdk/seed.ts";
import { K1_PORTS, K1_SOURCE } from "./k1-lab.ts";

const work = mkdtempSync(join(tmpdir(), "labbook-course-test-"));
const course = join(work, "course");
const lab = join(course, "k1", "k1.ipynb");
const labV2 = join(course, "k1-v2", "k1-v2.ipynb");
const classDir = join(work, "class");
const grades = join(work, "grades");
const SECRET = "a secret of this course";
const COURSE_FILE = `secret: "${SECRET}"\n`;

const ROUTE = "await node2.$`ip route add 10.99.0.0/24 via ${node1.ip}`;\n";
const SUBMISSIONS: Record<string, (exercise: string) => string> = {
  correct: () => ROUTE,
  // The page comes through, but not over the route the lab asks for: 2 of 3 points.
  partial: () => "await node2.$`ip route add 10.99.0.1/32 via ${node1.ip}`;\n",
  untouched: (exercise) => exercise,
  // Right answer, and a kernel patched around: the score stands, the gradebook flags it.
  tampering: () =>
    ROUTE +
    `const { display } = await import("labbook");\n` +
    `display({ "application/vnd.labbook.check+json": { name: "node2 routes 10.99.0.0/24 via node1", passed: true, message: "faked", attempts: 1, durationMs: 1 } });\n` +
    `(globalThis as any)[Symbol.for("labbook.display")] = () => {};\n`,
  // No route: node2 answers itself on 10.99.0.1 with a server of its own. Only the visible check is fooled.
  spoof: () => "await node2.$`ip addr add 10.99.0.1/32 dev lo`;\nfor (const p of [8080, 8081, 8082]) await node2.$`setsid -f python3 -m http.server ${p} --bind 10.99.0.1 --directory /tmp > /dev/null 2>&1`;\nawait new Promise((r) => setTimeout(r, 1000));\n",
};

function submission(assigned: Notebook, name: string): Notebook {
  const cells = assigned.cells.map((cell) => {
    const id = (cell.metadata.labbook as { id?: string } | undefined)?.id;
    if (cell.cell_type !== "code" || id !== "exercise-route") return cell;
    return { ...cell, source: SUBMISSIONS[name]!(Array.isArray(cell.source) ? cell.source.join("") : cell.source) } as CodeCell;
  });
  if (name === "tampering") {
    // A cell of the student's own under the id of a hidden cell, right after the exercise.
    const at = cells.findIndex((c) => (c.metadata.labbook as { id?: string } | undefined)?.id === "exercise-route") + 1;
    cells.splice(at, 0, { cell_type: "code", id: "hidden-k1", metadata: { labbook: { id: "hidden-k1" } }, source: "console.log('mine');\n", outputs: [], execution_count: null });
  }
  return { ...assigned, metadata: { ...assigned.metadata, labbook: { ...(assigned.metadata.labbook as object), student: name } }, cells };
}

describe("a new instructor with a course folder of their own", function () {
  this.timeout(600_000);

  it("`labbook init` makes the folder: the SDK linked, package.json, and a template lab with its own id", async () => {
    const init = await labbook(["init", course, "--lab", "k1"]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /created node_modules\/labbook -> /);
    assert.match(init.stdout, /created k1\/k1\.ipynb/);
    const template = JSON.parse(readFileSync(lab, "utf8")) as Notebook;
    assert.equal((template.metadata.labbook as { id: string }).id, "k1");
    const again = await labbook(["init", course]);
    assert.match(again.stdout, /already: nothing to add/);
  });

  it("the template lab runs headless from there, and so does the lab written from it", async () => {
    const template = await labbook(["run", join(course, "k1"), "--out", join(work, "out-template")]);
    assert.equal(template.code, 0, template.stdout + template.stderr);
    writeFileSync(join(course, "k1", "k1.lab.ts"), K1_SOURCE);
    const build = await labbook(["lab", "build", course]);
    assert.equal(build.code, 0, build.stderr);
    const typecheck = await labbook(["lab", "typecheck", course]);
    assert.equal(typecheck.code, 0, typecheck.stderr + typecheck.stdout);
    const run = await labbook(["run", lab, "--out", join(work, "out-k1")]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
  });

  it("a notebook in a folder without `labbook init` fails before any cluster starts, naming the fix", async () => {
    const elsewhere = join(work, "elsewhere");
    mkdirSync(elsewhere);
    cpSync(lab, join(elsewhere, "k1.ipynb"));
    const run = await labbook(["run", join(elsewhere, "k1.ipynb")]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, new RegExp(`"labbook" does not resolve from ${elsewhere}[^\\n]*run "labbook init ${elsewhere}"`));
  });

  it("`labbook check-lab` passes it: the solution passes, the negative control fails every hidden check, and it warns", async () => {
    const check = await labbook(["check-lab", lab, "--out", join(work, "check")]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /reference \(as grading runs it\): all 2 hidden checks pass/);
    assert.match(check.stdout, /negative control \(solutions emptied\): 2 of 2 hidden checks fail/);
    assert.match(check.stdout, /warning: teardown "teardown" changes the cluster/);
    assert.match(check.stdout, /warning: hidden check "hidden-k1" asks a server/);
  });

  it("`labbook check-lab` fails a lab whose hidden check passes with no work done, naming it", async () => {
    const weak = JSON.parse(readFileSync(lab, "utf8")) as Notebook;
    const hidden = weak.cells.find((c) => (c.metadata.labbook as { id?: string } | undefined)?.id === "hidden-k1")!;
    hidden.source = ['await check("node1 still serves", () => reaches(node1, "10.99.0.1", { port: port, http: "/" }));\n'];
    mkdirSync(join(course, "weak"));
    writeFileSync(join(course, "weak", "weak.ipynb"), JSON.stringify({ ...weak, metadata: { ...weak.metadata, labbook: { id: "weak" } } }));
    const check = await labbook(["check-lab", join(course, "weak", "weak.ipynb"), "--out", join(work, "check-weak")]);
    assert.equal(check.code, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /PROBLEM: hidden check "node1 still serves" \(hidden-k1\) passes with the exercises left as handed out/);
  });

  describe("grading six submissions against a renamed, later edited copy of the lab", () => {
    let book: Gradebook;
    let run: Awaited<ReturnType<typeof labbook>>;
    const feedback = (student: string) => readFileSync(join(grades, "students", student, "feedback.md"), "utf8");

    before(async () => {
      const assigned = join(work, "assigned");
      const assign = await labbook(["assign", lab, "--out", assigned]);
      assert.equal(assign.code, 0, assign.stderr);
      const handedOut = JSON.parse(readFileSync(join(assigned, "k1.ipynb"), "utf8")) as Notebook;
      mkdirSync(classDir);
      for (const name of Object.keys(SUBMISSIONS)) writeFileSync(join(classDir, `${name}.ipynb`), JSON.stringify(submission(handedOut, name)));
      writeFileSync(join(classDir, "broken.ipynb"), '{"cells": [');
      writeFileSync(join(course, "labbook.yaml"), COURSE_FILE); // with a secret: each student gets a variant of k1
      // The instructor renames the lab's file and edits a step the students were given.
      mkdirSync(join(course, "k1-v2"));
      const v2 = JSON.parse(readFileSync(lab, "utf8")) as Notebook;
      const look = v2.cells.find((c) => (c.metadata.labbook as { id?: string } | undefined)?.id === "step-look")!;
      look.source = ["// The route table node2 has now, as a list\n", "console.log((await node2.$`ip -br route`).stdout);\n"];
      writeFileSync(labV2, JSON.stringify(v2, null, 1));
      run = await labbook(["grade", labV2, classDir, "--out", grades, "--jobs", "3", "--timeout", "20"]);
      book = JSON.parse(readFileSync(join(grades, "gradebook.json"), "utf8")) as Gradebook;
    });

    it("accepts the renamed copy: the lab's id, not its file name, is what submissions must match", () => {
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.equal(book.lab, "k1");
    });

    const expected: Record<string, [number, string]> = { correct: [3, "graded"], partial: [2, "graded"], untouched: [0, "graded"], tampering: [3, "graded"], spoof: [0, "graded"], broken: [0, "rejected"] };
    for (const [student, [total, status]] of Object.entries(expected)) {
      it(`${student}: ${total} of 3 (${status})`, () => {
        const grade = book.students.find((s) => s.student === student)!;
        const failed = grade.exercises.flatMap((e) => e.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`));
        assert.equal(grade.status, status, grade.reason);
        assert.equal(grade.total, total, failed.join("\n"));
      });
    }

    it("gives each student the variant hash(secret, lab, student) picks, and runs the reference once per variant in use", () => {
      const graded = book.students.filter((s) => s.status === "graded");
      for (const s of graded) assert.equal(s.variant, variantKey(SECRET, "k1", s.student, 3), s.student);
      const inUse = [...new Set(graded.map((s) => s.variant!))].sort();
      const references = [...run.stdout.matchAll(/reference \(variant (v\d)\): the solution passes all 2 hidden checks/g)].map((m) => m[1]).sort();
      assert.deepEqual(references, inUse);
      assert.match(readFileSync(join(grades, "gradebook.csv"), "utf8").split("\n")[0]!, /,variant$/);
    });

    it("a student's own copy (assign --student) runs their variant, in Jupyter's way: from the notebook's folder", async () => {
      const copies = join(course, "copies"); // inside the course folder: its SDK link serves it
      const assign = await labbook(["assign", lab, "--out", copies, "--student", "ann"]);
      assert.equal(assign.code, 0, assign.stdout + assign.stderr);
      const copy = JSON.parse(readFileSync(join(copies, "ann", "k1.ipynb"), "utf8")) as Notebook;
      const key = variantKey(SECRET, "k1", "ann", 3);
      assert.deepEqual([(copy.metadata.labbook as { student: string }).student, (copy.metadata.labbook as { variant: string }).variant], ["ann", key]);
      const ran = await labbook(["run", join(copies, "ann", "k1.ipynb"), "--out", join(work, "out-ann")]);
      const port = pickBySeed(K1_PORTS, "k1-port", key);
      assert.match(ran.stdout + readFileSync(join(work, "out-ann", "k1.ipynb"), "utf8"), new RegExp(`node1 serves on 10\\.99\\.0\\.1:${port}`));
    });

    it("judges the state the students left: the teardown that stops the server runs after the hidden checks", () => {
      const correct = book.students.find((s) => s.student === "correct")!;
      assert.ok(correct.exercises[0]!.checks.every((c) => c.passed));
    });

    it("flags the tampering one in a suspicious column, with details in gradebook.json, and no one else", () => {
      const [header, ...rows] = parseCsv(readFileSync(join(grades, "gradebook.csv"), "utf8"));
      const column = header!.indexOf("suspicious");
      assert.ok(column > 0, header!.join(","));
      const flags = (student: string) => rows.find((r) => r[0] === student)![column]!;
      for (const kind of ["hidden-id", "display-hook", "check-mime", "missing-check", "lab-check-name"]) assert.match(flags("tampering"), new RegExp(kind));
      for (const student of ["correct", "partial", "untouched", "spoof", "broken"]) assert.equal(flags(student), "", `${student} flagged`);
      const tampering = book.students.find((s) => s.student === "tampering")!;
      assert.ok(tampering.suspicious.some((s) => s.kind === "hidden-id" && s.detail.includes("hidden-k1")));
    });

    it("feedback: no hidden cell id echoed, a vanished visible check reported missing, the lab's edit not called the student's", () => {
      const tampering = feedback("tampering");
      assert.doesNotMatch(tampering, /hidden-k1|hidden/i);
      assert.match(tampering, /node2 gets node1's page.*missing/);
      const correct = feedback("correct");
      assert.match(correct, /the lab's cells step-look changed after you got the lab \(not by you\)/);
      assert.doesNotMatch(correct, /you changed the lab's own cells/);
    });

    it("writes the class report: the check that cost most first", () => {
      const report = readFileSync(join(grades, "report.html"), "utf8");
      assert.match(report, /6 submissions: 5 graded, 1 rejected/);
      const [serves, routes] = [report.indexOf('class="check-name">node1&#39;s server answers node2'), report.indexOf('class="check-name">node2 routes 10.99.0.0/24')];
      assert.ok(serves > 0 && routes > 0, "a row per hidden check");
      assert.ok(serves < routes, "the 2-point check (failed by untouched and spoof: 4 points lost) before the 1-point one (3 lost)");
    });

    it("a rejected file's feedback lists no check the grader ran", () => {
      const broken = feedback("broken");
      assert.match(broken, /could not be graded/);
      assert.doesNotMatch(broken, /Checks the grader ran/);
    });

    it("grading every submission against another lab is the instructor's error: exit 2, and why", async () => {
      const other = join(course, "other");
      mkdirSync(other);
      const v2 = JSON.parse(readFileSync(lab, "utf8")) as Notebook;
      writeFileSync(join(other, "other.ipynb"), JSON.stringify({ ...v2, metadata: { ...v2.metadata, labbook: { id: "other" } } }));
      const wrong = await labbook(["grade", join(other, "other.ipynb"), join(work, "class"), "--out", join(work, "grades-wrong"), "--jobs", "2"]);
      assert.equal(wrong.code, 2, wrong.stdout + wrong.stderr);
      assert.match(wrong.stderr, /6 of 6 submissions were rejected \(the commonest reason, 5 times: it is a notebook for lab "k1", not "other"\)/);
    });
  });

  describe("after grading: overrides, a regrade, an incremental regrade, a late policy, an export", () => {
    const read = () => JSON.parse(readFileSync(join(grades, "gradebook.json"), "utf8")) as Gradebook;
    const csvRow = (student: string) => readFileSync(join(grades, "gradebook.csv"), "utf8").split("\n").find((l) => l.startsWith(`${student},`))!;

    it("--student regrades one submission, keeps the others, and applies overrides.csv, which it never rewrites", async () => {
      const overrides = "student,target,points,comment\nuntouched,exercise-route,1,for the work shown in the lab session\n";
      writeFileSync(join(grades, "overrides.csv"), overrides);
      const before = read();
      const one = await labbook(["grade", labV2, classDir, "--out", grades, "--student", "partial", "--timeout", "20"]);
      assert.equal(one.code, 0, one.stdout + one.stderr);
      assert.match(one.stdout, /grading 1 submission of k1 .*; 5 grades kept from the gradebook/);
      const after = read();
      const durations = (book: Gradebook) => book.students.filter((s) => s.student !== "partial").map((s) => s.durationMs);
      assert.deepEqual(durations(after), durations(before), "the other grades are the ones from before");
      const untouched = after.students.find((s) => s.student === "untouched")!;
      assert.deepEqual([untouched.total, untouched.final!.total, untouched.final!.overrides[0]!.comment], [0, 1, "for the work shown in the lab session"]);
      assert.match(csvRow("untouched"), /^untouched,1,0,exercise-route=1,/);
      assert.match(readFileSync(join(grades, "students", "untouched", "feedback.md"), "utf8"), /Your instructor set exercise `exercise-route` to 1 pt: for the work shown in the lab session/);
      assert.equal(readFileSync(join(grades, "overrides.csv"), "utf8"), overrides);
      const unknown = await labbook(["grade", labV2, classDir, "--out", grades, "--student", "nobody"]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /--student nobody: no such submission among the 6 given/);
    });

    it("--incremental reruns only the submissions that changed since", async () => {
      const same = await labbook(["grade", labV2, classDir, "--out", grades, "--incremental"]);
      assert.equal(same.code, 0, same.stdout + same.stderr);
      assert.match(same.stdout, /nothing to grade again for k1; 6 grades kept/);
      const handedOut = JSON.parse(readFileSync(join(work, "assigned", "k1.ipynb"), "utf8")) as Notebook;
      writeFileSync(join(classDir, "partial.ipynb"), JSON.stringify(submission(handedOut, "correct")).replace('"student":"correct"', '"student":"partial"'));
      const changed = await labbook(["grade", labV2, classDir, "--out", grades, "--incremental", "--timeout", "20"]);
      assert.equal(changed.code, 0, changed.stdout + changed.stderr);
      assert.match(changed.stdout, /grading 1 submission of k1 .*; 5 grades kept/);
      assert.equal(read().students.find((s) => s.student === "partial")!.total, 3);
    });

    it("a due date and late policy from the course file, with an extension, recomputed by the Canvas export", async () => {
      const due = new Date(Date.now() - 36 * 3600_000).toISOString();
      writeFileSync(join(course, "labbook.yaml"), `${COURSE_FILE}labs:\n  k1:\n    due: ${due}\n    late: { per-day: 10%, cap: 50% }\nextensions: extensions.csv\n`);
      writeFileSync(join(course, "extensions.csv"), "student,lab,days\ncorrect,k1,3\n");
      const exported = await labbook(["gradebook", "export", grades, "--format", "canvas"]);
      assert.equal(exported.code, 0, exported.stdout + exported.stderr);
      const canvas = readFileSync(join(grades, "k1-canvas.csv"), "utf8").trim().split("\n");
      assert.equal(canvas[0], "Student,ID,SIS User ID,SIS Login ID,Section,K1: a route to a server (k1)");
      assert.equal(canvas[1], "Points Possible,,,,,3");
      assert.ok(canvas.includes("correct,,,correct,,3"), canvas.join("\n"));
      assert.ok(canvas.includes("tampering,,,tampering,,2.4"), canvas.join("\n"));
      assert.match(csvRow("tampering"), /^tampering,3,3,,2,0\.6,2\.4,3,graded,/);
      assert.match(readFileSync(join(grades, "students", "tampering", "feedback.md"), "utf8"), /Handed in 2 days late .*: 0\.6 pt taken \(20% of 3\)/);
      assert.ok(readFileSync(join(grades, "k1-canvas-feedback", "tampering_k1_feedback.html"), "utf8").includes("2.4 / 3"));
    });
  });
});
