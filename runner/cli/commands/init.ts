import { relative } from "node:path";
import { initCourse } from "../../course/init.ts";
import { UsageError } from "../../errors.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";

export const init: CliCommand = {
  usage: [
    "labbook init [DIR] [--lab NAME]",
    "  makes DIR (default: the current folder) a course folder of your own: its labs import \"labbook\" in Jupyter,",
    "  headless and when graded, as this checkout's labs do. Links node_modules/labbook to this labbook, adds",
    "  package.json, .gitignore and README.md where missing, and a template lab NAME/ (default 01-first-lab) when",
    "  the folder has no lab yet. Nothing is overwritten; run it again in every clone (the link is this machine's).",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs("init", argv, { lab: { type: "string" } });
    if (positionals.length > 1) throw new UsageError(`labbook init: one folder, got ${positionals.length}`);
    const result = initCourse(positionals[0] ?? ".", values.lab === undefined ? {} : { lab: values.lab });
    const shown = relative(process.cwd(), result.dir) || ".";
    process.stdout.write(`${shown} is a labbook course folder${result.created.length ? "" : " (it was already: nothing to add)"}\n`);
    for (const made of result.created) process.stdout.write(`  created ${made}\n`);
    if (result.lab) {
      const nb = `${shown}/${result.lab}/${result.lab}.ipynb`;
      process.stdout.write(
        [
          "next:",
          `  edit ${shown}/${result.lab}/${result.lab}.lab.ts, then: labbook lab build ${shown}`,
          `  labbook check-lab ${nb}    run it as grading does, with the negative control`,
          `  labbook notebook ${shown}                open the folder in Jupyter`,
          "",
        ].join("\n"),
      );
    }
    return 0;
  },
};
