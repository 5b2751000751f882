// The gradebook's files and shards: a CSV an LMS imports (and a spreadsheet cannot be tricked by),
// deterministic slices, and merging that refuses shards of different labs or overlapping classes.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { mostlyRejected, shardOf } from "../../runner/grade/grade-batch.ts";
import { gradebookCsv, mergeGradebooks, type Gradebook } from "../../runner/grade/gradebook.ts";
import type { StudentGrade } from "../../runner/grade/score.ts";
import { parseShard } from "../../runner/cli/commands/grade.ts";

function student(id: string, total: number): StudentGrade {
  return { student: id, file: `${id}.ipynb`, status: "graded", total, max: 3, exercises: [{ id: "ex", max: 3, earned: total, submitted: true, checks: [] }], visibleChecks: [], exerciseCells: [], notes: [], suspicious: [], durationMs: 1 };
}

function book(students: StudentGrade[], extra: Partial<Gradebook> = {}): Gradebook {
  return { lab: "02", labVersion: "v1", exercises: [{ id: "ex", points: 3 }], gradedAt: "2026-01-01T00:00:00Z", students, ...extra };
}

describe("grade: gradebook and shards", () => {
  it("writes one CSV row per student with exercise and total columns, quoting and defusing formulas", () => {
    const flagged = { ...student("bob", 3), suspicious: [{ kind: "display-hook" as const, detail: "x" }, { kind: "missing-check" as const, detail: "y" }, { kind: "display-hook" as const, detail: "z" }] };
    const csv = gradebookCsv(book([student("alice", 3), flagged, { ...student("=HYPERLINK(1)", 0), status: "rejected", reason: 'bad, "JSON"' }]));
    assert.equal(
      csv,
      "student,ex (3),raw,overrides,late days,late penalty,total,max,status,reason,suspicious\n" +
        "alice,3,3,,,,3,3,graded,,\n" +
        "bob,3,3,,,,3,3,graded,,display-hook missing-check\n" +
        `'=HYPERLINK(1),0,0,,,,0,3,rejected,"bad, ""JSON""",\n`,
    );
  });

  it("calls a batch that is mostly rejected the instructor's error, naming the commonest reason", () => {
    const rejected = (id: string, reason: string): StudentGrade => ({ ...student(id, 0), status: "rejected", reason });
    const wrongLab = 'it is a notebook for lab "k1", not "k2"';
    assert.match(mostlyRejected(book([rejected("a", wrongLab), rejected("b", wrongLab), rejected("c", "the file is empty"), student("d", 3)])) ?? "", /3 of 4 submissions were rejected \(the commonest reason, 2 times: it is a notebook for lab "k1", not "k2"\)/);
    assert.equal(mostlyRejected(book([rejected("a", wrongLab), student("b", 3)])), undefined, "half is not most");
    assert.equal(mostlyRejected(book([student("a", 3)])), undefined);
  });

  it("cuts shards deterministically: every n-th item, together exactly the whole", () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    const shards = [1, 2, 3].map((index) => shardOf(items, { index, count: 3 }));
    assert.deepEqual(shards, [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]);
    assert.deepEqual(parseShard("2/8"), { index: 2, count: 8 });
    for (const bad of ["0/2", "3/2", "1", "a/b", "1/0"]) assert.throws(() => parseShard(bad), /--shard must be i\/n/);
  });

  it("merges shards sorted by student, and refuses other labs or students in two shards", () => {
    const merged = mergeGradebooks([
      { source: "s1", book: book([student("carol", 1), student("alice", 3)], { shard: "1/2" }) },
      { source: "s2", book: book([student("bob", 2)], { shard: "2/2" }) },
    ]);
    assert.deepEqual(merged.students.map((s) => s.student), ["alice", "bob", "carol"]);
    assert.equal(merged.shard, undefined);
    assert.throws(() => mergeGradebooks([{ source: "s1", book: book([]) }, { source: "s2", book: book([], { labVersion: "v2" }) }]), /s2 is for 02 \(version v2\)/);
    assert.throws(() => mergeGradebooks([{ source: "s1", book: book([student("a", 1)]) }, { source: "s2", book: book([student("a", 1)]) }]), /student "a" is in both s1 and s2/);
  });
});

describe("grade: the example Kubernetes Indexed Job", () => {
  const manifest = readFileSync(fileURLToPath(new URL("../../infra/k8s/grade-indexed-job.yaml", import.meta.url)), "utf8");
  const [job, merge] = parseAllDocuments(manifest).map((d) => d.toJS()) as Array<{ spec: Record<string, any> }>;

  it("runs one labbook grade --shard per completion index, covering every shard once", () => {
    assert.equal(job!.spec.completionMode, "Indexed");
    const container = job!.spec.template.spec.containers[0];
    const script: string = container.args[0];
    assert.match(script, /--shard "\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)\/\$SHARDS"/);
    const count = Number(container.env.find((v: { name: string }) => v.name === "SHARDS")?.value);
    assert.equal(job!.spec.completions, count);
    const shardArg = /--shard ("[^"]*")/.exec(script)![1]!;
    const shards = Array.from({ length: count }, (_, index) => execFileSync("bash", ["-c", `echo ${shardArg}`], { env: { JOB_COMPLETION_INDEX: String(index), SHARDS: String(count) }, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
    assert.deepEqual(shards.map((s) => parseShard(s)?.index), Array.from({ length: count }, (_, i) => i + 1));
    assert.match(script, /--out "\/class\/grades\/shard-\$JOB_COMPLETION_INDEX"/);
    assert.equal(container.securityContext.privileged, true);
  });

  it("merges the shards' gradebooks afterwards", () => {
    assert.match(merge!.spec.template.spec.containers[0].args[0], /labbook\.js gradebook merge \/class\/grades\/shard-\* --out/);
  });
});
