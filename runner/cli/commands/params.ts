import { parametersHelp } from "../../notebook/parameters.ts";
import { readNotebook } from "../../notebook/read.ts";
import { expandNotebookPaths } from "../../run/run-notebooks.ts";
import { UsageError } from "../../errors.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";

/** Each notebook's parameters, as papermill's --help-notebook lists them. */
export function notebooksHelp(paths: string[]): string {
  return expandNotebookPaths(paths).map((path) => parametersHelp(readNotebook(path), path)).join("\n");
}

export const params: CliCommand = {
  usage: [
    "labbook params <notebook|dir>...",
    "  lists each notebook's parameters (the code cell tagged `parameters`): name, type, default and help;",
    "  set them with labbook run NB -p NAME VALUE (the same as labbook run NB --help-notebook)",
  ].join("\n"),
  async run(argv) {
    const { positionals } = parseCommandArgs("params", argv, {});
    if (positionals.length === 0) throw new UsageError(`usage: ${this.usage.split("\n")[0]}`);
    process.stdout.write(`${notebooksHelp(positionals)}\n`);
    return 0;
  },
};
