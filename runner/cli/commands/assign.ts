import { mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import { UsageError } from "../../errors.ts";
import { studentNotebook } from "../../grade/assign.ts";
import { copyLabFiles } from "../../grade/lab-files.ts";
import { planLab } from "../../grade/lab-plan.ts";
import { writeNotebook } from "../../notebook/read.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";

export const assign: CliCommand = {
  usage: [
    "labbook assign <lab.ipynb> [--out DIR]",
    "  writes the student version of an instructor notebook to DIR (default assigned/): exercise cells stay as",
    "  the student's to complete, visible checks stay for self-checking, and solution and hidden-check cells",
    "  are removed entirely; the lab's own helper files (its folder but its .ipynb and .lab.ts) are copied beside it.",
    "  The lab is validated first (see docs/grading.md): exit code 2 names each problem.",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs("assign", argv, { out: { type: "string", short: "o" } });
    if (positionals.length !== 1) throw new UsageError(`usage: ${this.usage.split("\n")[0]}`);
    const plan = planLab(positionals[0]!);
    const outDir = values.out ?? "assigned";
    mkdirSync(outDir, { recursive: true });
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
