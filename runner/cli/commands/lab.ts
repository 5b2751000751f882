import { relative } from "node:path";
import { UsageError } from "../../errors.ts";
import { buildLabs, findLabSources, writeBuiltLabs } from "../../lab/build.ts";
import { formatLabTypeError, typecheckLabs } from "../../lab/typecheck.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";

export const lab: CliCommand = {
  usage: [
    "labbook lab build [PATH...] [--check]   write each lab's notebook (NN-name.ipynb) from its source (NN-name.lab.ts, jupytext's percent format);",
    "                                        PATH: lab sources or folders of them (default labs/); --check writes nothing and exits 1 if a notebook lags its source",
    "labbook lab typecheck [PATH...]         type-check every code cell of the labs, as the kernel runs them and as the grader does (npm run typecheck runs it)",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs("lab", argv, { check: { type: "boolean" } });
    const [verb, ...paths] = positionals;
    const labs = findLabSources(paths.length ? paths : ["labs"]);
    const shown = (path: string) => relative(process.cwd(), path);
    if (verb === "build") {
      const built = buildLabs(labs);
      const stale = built.filter((b) => !b.upToDate);
      if (values.check) {
        for (const b of stale) process.stderr.write(`${shown(b.notebook)} is not what ${shown(b.source)} makes: run "labbook lab build" and commit both\n`);
        process.stdout.write(`${built.length - stale.length} of ${built.length} lab notebooks match their sources\n`);
        return stale.length ? 1 : 0;
      }
      writeBuiltLabs(built);
      for (const b of stale) process.stdout.write(`wrote ${shown(b.notebook)}\n`);
      process.stdout.write(`${built.length} labs: ${stale.length} notebooks written, ${built.length - stale.length} already up to date\n`);
      return 0;
    }
    if (verb === "typecheck") {
      if (values.check) throw new UsageError("labbook lab typecheck: --check belongs to build");
      const errors = typecheckLabs(labs);
      for (const error of errors) process.stderr.write(`${formatLabTypeError(error)}\n`);
      process.stdout.write(`${labs.length} labs type-checked: ${errors.length} errors\n`);
      return errors.length ? 1 : 0;
    }
    throw new UsageError(`usage:\n${this.usage}`);
  },
};
