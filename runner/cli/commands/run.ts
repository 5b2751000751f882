import { getBackend } from "../../backend/registry.ts";
import { UsageError } from "../../errors.ts";
import { createReporters, fanOut } from "../../report/registry.ts";
import { gradingPolicy } from "../../run/grading-policy.ts";
import { plainPolicy } from "../../run/policy.ts";
import { runNotebooks } from "../../run/run-notebooks.ts";
import { parseCommandArgs, positiveInteger } from "../args.ts";
import { takeParameterArgs } from "../parameter-args.ts";
import { notebooksHelp } from "./params.ts";
import type { CliCommand } from "../command.ts";
import { withInterruptCleanup } from "../interrupt.ts";

export const run: CliCommand = {
  usage: [
    "labbook run <notebook|dir>... [--backend netns|vagrant] [--name C] [--no-reset] [--timeout S] [--keep-going] [--seed S] [--jobs N] [--isolate-hidden] [--sandbox] [--report junit,json,html,md] [--out DIR] [-p NAME VALUE]... [-r NAME VALUE]... [-f params.yaml] [-y YAML] [--help-notebook]",
    "  runs each notebook headless on a fresh cluster; writes the executed notebooks and reports to --out (default out/)",
    "  --backend vagrant runs them one after another on the VMs that `labbook up --backend vagrant` (or a plain `vagrant up`) started",
    "    (--name, default labbook), each after `labbook reset` brought the VMs back to their clean snapshot; --no-reset: as they are",
    "  --jobs N runs N notebooks at once, each on its own cluster (default 1); each one's lines then come as a block",
    "  --isolate-hidden runs hidden checks as grade does: last, in a fresh process, after the grader-setup cells",
    "  --sandbox runs each notebook's kernel as grade runs students' kernels: unprivileged, on its cluster's LAN only",
    "  -p NAME VALUE sets a notebook parameter, as papermill does: a cell after the one tagged `parameters` declares it again",
    "    (VALUE typed: a number, true/false, null, else a string); -r NAME VALUE: a string as is; -f FILE / -y TEXT: a YAML map",
    "    of them (lists and maps too); the executed notebook records them. --help-notebook lists each notebook's parameters",
    "  exit codes: 0 all passed, 1 a check or step failed, 2 bad input or infrastructure failure",
  ].join("\n"),
  async run(argv) {
    const parameters = takeParameterArgs("run", argv);
    const { values, positionals } = parseCommandArgs("run", parameters.rest, {
      backend: { type: "string", short: "b" },
      name: { type: "string", short: "n" },
      timeout: { type: "string" },
      "keep-going": { type: "boolean", short: "k" },
      report: { type: "string", short: "r" },
      out: { type: "string", short: "o" },
      seed: { type: "string" },
      jobs: { type: "string", short: "j" },
      "isolate-hidden": { type: "boolean" },
      sandbox: { type: "boolean" },
      "no-reset": { type: "boolean" },
      "help-notebook": { type: "boolean" },
    });
    if (positionals.length === 0) throw new UsageError(`usage: ${this.usage.split("\n")[0]}`);
    if (values["help-notebook"]) {
      process.stdout.write(`${notebooksHelp(positionals)}\n`);
      return 0;
    }
    const timeoutS = values.timeout === undefined ? 300 : Number(values.timeout);
    if (!(timeoutS > 0)) throw new UsageError(`--timeout must be a number of seconds, got "${values.timeout}"`);
    const jobs = positiveInteger("--jobs", values.jobs) ?? 1;
    const outDir = values.out ?? "out";
    const names = ["console", ...(values.report ? values.report.split(",").map((r) => r.trim()).filter(Boolean) : [])];
    const reporter = fanOut(createReporters([...new Set(names)], { outDir }));
    const backend = getBackend(values.backend);
    if (values.name !== undefined && backend.runsOn === "fresh") throw new UsageError(`--name: the ${backend.name} backend runs each notebook on a fresh cluster of its own`);
    if (values["no-reset"] && backend.runsOn === "fresh") throw new UsageError(`--no-reset: the ${backend.name} backend runs each notebook on a fresh cluster of its own`);
    // One per notebook running: with --jobs, Ctrl-C must stop all of them.
    const aborts = new Set<() => Promise<void>>();
    const summary = await withInterruptCleanup(
      async () => {
        await Promise.all([...aborts].map((abort) => abort()));
      },
      () => runNotebooks(positionals, { backend, timeoutS, keepGoing: values["keep-going"] ?? false, outDir, reporter, jobs, policy: values["isolate-hidden"] ? gradingPolicy : plainPolicy, sandbox: values.sandbox ?? false, ...(values.name === undefined ? {} : { sharedCluster: values.name }), resetShared: !values["no-reset"], parameters: parameters.values, onProgress: (message) => process.stderr.write(`labbook: ${message}\n`), ...(values.seed === undefined ? {} : { seed: values.seed }), onAbortHandle: (a) => aborts.add(a) }),
    );
    const written = (await reporter.onRunEnd?.(summary)) ?? [];
    const executed = summary.notebooks.map((n) => n.executedNotebook).filter(Boolean);
    process.stdout.write(`\nwrote ${[...executed, ...written].join(", ")}\n`);
    for (const broken of summary.notebooks.filter((n) => n.infrastructureError)) process.stderr.write(`labbook: ${broken.notebook}: ${broken.infrastructureError}\n`);
    if (summary.notebooks.some((n) => n.infrastructureError)) return 2;
    return summary.notebooks.every((n) => n.passed) ? 0 : 1;
  },
};
