import { LabbookError } from "../errors.ts";
import type { CliCommand } from "./command.ts";
import { doctor } from "./commands/doctor.ts";
import { down } from "./commands/down.ts";
import { exec } from "./commands/exec.ts";
import { smoke } from "./commands/smoke.ts";
import { ssh } from "./commands/ssh.ts";
import { status } from "./commands/status.ts";
import { up } from "./commands/up.ts";

const commands: Record<string, CliCommand> = { up, down, status, exec, ssh, doctor, smoke };

function help(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    "labbook: Kubernetes networking and storage labs on an embedded cluster",
    "",
    "usage: labbook <command> [options]",
    "",
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    "Run 'labbook <command> --help' for a command's options. Exit codes: 0 ok, 1 failure, 2 usage.",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const topic = name === "help" && rest[0] ? commands[rest[0]] : undefined;
    process.stdout.write(`${topic ? topic.usage : help()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`labbook: unknown command "${name}"\n\n${help()}\n`);
    return 2;
  }
  if (rest[0] === "--help" || rest[0] === "-h") {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  return command.run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof LabbookError) {
    process.stderr.write(`labbook: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`labbook: internal error: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
