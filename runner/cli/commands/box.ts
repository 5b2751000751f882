import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { UsageError } from "../../errors.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";

const SCRIPTS: Record<string, string> = {
  build: fileURLToPath(new URL("../../../infra/box/build.sh", import.meta.url)),
  check: fileURLToPath(new URL("../../../infra/box/check.sh", import.meta.url)),
};

export const box: CliCommand = {
  usage: [
    "labbook box build     build the Vagrant box offline (debootstrap of Debian bookworm; cached by its inputs) into .labbook/box",
    "labbook box check     boot the built box once with qemu, in a namespace of its own, and check it over SSH",
    "  `labbook up --backend vagrant` uses the built box when there is one",
  ].join("\n"),
  async run(argv) {
    const { positionals } = parseCommandArgs("box", argv, {});
    const [action, ...rest] = positionals;
    const script = action === undefined ? undefined : SCRIPTS[action];
    if (!script || rest.length > 0) throw new UsageError(`usage: labbook box build | labbook box check`);
    // The scripts print their own progress and name what is missing; their exit code is ours.
    const child = spawn("sh", [script], { stdio: "inherit" });
    return new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (code) => resolve(code ?? 1));
    });
  },
};
