import { mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import { UsageError } from "../../errors.ts";
import { studentNotebook } from "../../grade/assign.ts";
import { copyLabFiles } from "../../grade/lab-files.ts";
import { labId, planLab } from "../../grade/lab-plan.ts";
import { readRoster } from "../../grade/export.ts";
import { variantKey } from "../../grade/variants.ts";
import { labVariants } from "../../notebook/variants.ts";
import { findCourseFile } from "../../course/course-file.ts";
import { writeNotebook } from "../../notebook/read.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";

export const assign: CliCommand = {
  usage: [
    "labbook assign <lab.ipynb> [--out DIR] [--student ID]... [--roster FILE] [--course FILE]",
    "  writes the student version of an instructor notebook to DIR (default assigned/): exercise cells stay as",
    "  the student's to complete, visible checks stay for self-checking, and solution and hidden-check cells",
    "  are removed entirely; the lab's own helper files (its folder but its .ipynb and .lab.ts) are copied beside it.",
    "  The lab is validated first (see docs/grading.md): exit code 2 names each problem.",
    "  --student ID (repeatable) or --roster FILE (a CSV with a student column) writes one copy per student,",
    "  DIR/<id>/<lab>.ipynb, naming the student and, for a lab that offers variants, their variant (from the course",
    "  file's secret): Jupyter then runs the student's variant of the lab.",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs("assign", argv, { out: { type: "string", short: "o" }, student: { type: "string", multiple: true }, roster: { type: "string" }, course: { type: "string" } });
    if (positionals.length !== 1) throw new UsageError(`usage: ${this.usage.split("\n")[0]}`);
    const plan = planLab(positionals[0]!);
    const outDir = values.out ?? "assigned";
    mkdirSync(outDir, { recursive: true });
    const students = [...(values.student ?? []), ...(values.roster ? [...readRoster(values.roster).keys()] : [])];
    if (students.length) {
      const count = labVariants(plan.notebook, plan.path);
      const secret = count === undefined ? undefined : findCourseFile(plan.path, values.course)?.secret;
      if (count !== undefined && !secret) throw new UsageError(`${plan.path} offers ${count} variants: per-student copies need the course file's secret (labbook.yaml, secret:), which was not found`);
      for (const student of students) {
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(student)) throw new UsageError(`--student "${student}": a student id is letters, digits, ".", "_" or "-"`);
        const dir = join(outDir, student);
        mkdirSync(dir, { recursive: true });
        copyLabFiles(plan.path, dir);
        writeNotebook(join(dir, basename(plan.path)), studentNotebook(plan, { student, ...(count && secret ? { variant: variantKey(secret, labId(plan), student, count) } : {}) }));
      }
      process.stdout.write(`wrote ${students.length} student copies to ${outDir}/<student>/${basename(plan.path)}${count ? `, each with its variant of ${count}` : ""}\n`);
      return 0;
    }
    const target = join(outDir, basename(plan.path));
    // The helpers its cells import go beside it; the lab's source (solutions, hidden checks) never does.
    const helpers = copyLabFiles(plan.path, outDir);
    writeNotebook(target, studentNotebook(plan));
    const points = plan.exercises.reduce((sum, e) => sum + (e.exercise.meta.points ?? 0), 0);
    const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
    const removed = [count(plan.exercises.length, "solution"), count(plan.hiddenChecks.length, "hidden-check cell"), ...(plan.graderSetup.length ? [count(plan.graderSetup.length, "grader-setup cell")] : [])];
    process.stdout.write(`wrote ${target}: ${count(plan.exercises.length, "exercise")} (${points} points); removed ${removed.join(", ")}\n`);
    if (helpers.length) process.stdout.write(`copied the lab's own files beside it: ${helpers.join(", ")}\n`);
    return 0;
  },
};
