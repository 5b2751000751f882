import { getBackend } from "../../backend/registry.ts";
import { UsageError } from "../../errors.ts";
import { checkLab } from "../../grade/check-lab.ts";
import { planLab } from "../../grade/lab-plan.ts";
import { formatDuration } from "../../report/text.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";
import { withInterruptCleanup } from "../interrupt.ts";

export const checkLabCommand: CliCommand = {
  usage: [
    "labbook check-lab <lab.ipynb> [--out DIR] [--timeout S] [--seed S]",
    "  before you assign a lab: validates it as assign and grade do, runs it as grading does (the solutions; hidden",
    "  checks in their own process, on a fresh cluster), and runs the negative control (the exercises as handed out,",
    "  solutions emptied; every hidden check must fail). Warns about patterns that grade wrongly: a teardown that",
    "  changes the cluster, a visible check right after an exercise, a hidden check that asks a server a student",
    "  can replace. Executed notebooks go to DIR (default out/check-lab/<lab id>).",
    "  exit codes: 0 gradable (warnings may remain), 1 it would grade wrongly (each reason printed), 2 an invalid lab",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs("check-lab", argv, { out: { type: "string", short: "o" }, timeout: { type: "string" }, seed: { type: "string" } });
    if (positionals.length !== 1) throw new UsageError(`usage: ${this.usage.split("\n")[0]}`);
    const timeoutS = values.timeout === undefined ? 60 : Number(values.timeout);
    if (!(timeoutS > 0)) throw new UsageError(`--timeout must be a number of seconds, got "${values.timeout}"`);
    const plan = planLab(positionals[0]!); // an invalid lab: NotebookError, exit 2, every problem named
    const out = (line: string) => process.stdout.write(`${line}\n`);
    out(`${plan.path}: valid: ${plan.exercises.length} exercise(s), ${plan.hiddenChecks.length} hidden-check cell(s), ${plan.graderSetup.length} grader-setup cell(s)`);
    const aborts = new Set<() => Promise<void>>();
    const check = await withInterruptCleanup(
      async () => {
        await Promise.all([...aborts].map((abort) => abort()));
      },
      () =>
        checkLab(plan, {
          backend: getBackend("netns"), timeoutS, outDir: values.out ?? `out/check-lab/${plan.path.split("/").at(-1)!.replace(/\.ipynb$/, "")}`,
          ...(values.seed === undefined ? {} : { seed: values.seed }), onAbortHandle: (a) => aborts.add(a), onProgress: (m) => out(`  ${m}...`),
        }),
    );
    if (check.reference) out(`  reference (as grading runs it): all ${check.reference.checks} hidden checks pass (${formatDuration(check.reference.durationMs)})`);
    if (check.negative) out(`  negative control (solutions emptied): ${check.negative.failing} of ${check.negative.failing + check.negative.passing.length} hidden checks fail (${formatDuration(check.negative.durationMs)})`);
    for (const warning of check.warnings) out(`  warning: ${warning}`);
    for (const problem of check.problems) out(`  PROBLEM: ${problem}`);
    out(check.problems.length ? `${check.lab}: ${check.problems.length} problem(s): students would be graded wrongly; fix the lab and run check-lab again` : `${check.lab}: gradable${check.warnings.length ? `, with ${check.warnings.length} warning(s) to read` : ""}`);
    return check.problems.length ? 1 : 0;
  },
};
