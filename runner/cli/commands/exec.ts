import { quote } from "zx/core";
import { Cluster, DEFAULT_CLUSTER_NAME } from "../../cluster/cluster.ts";
import { UsageError } from "../../errors.ts";
import { CLUSTER_OPTIONS, parseCommandArgs, splitAtDoubleDash } from "../args.ts";
import type { CliCommand } from "../command.ts";

export const exec: CliCommand = {
  usage: [
    "labbook exec [--name C] [--timeout S] <node> -- <command> [args...]",
    "  one argument after -- is a shell line (pipes, ;, $VARS work): labbook exec node1 -- 'ip route | grep default'",
    "  several are one command with quoted arguments:               labbook exec node1 -- ping -c1 192.168.0.12",
  ].join("\n"),
  async run(argv) {
    const [own, commandArgs] = splitAtDoubleDash(argv);
    const { values, positionals } = parseCommandArgs("exec", own, { ...CLUSTER_OPTIONS, timeout: { type: "string" } });
    if (positionals.length !== 1 || !commandArgs || commandArgs.length === 0) {
      throw new UsageError(`usage: ${this.usage.split("\n")[0]}`);
    }
    const timeout = values.timeout === undefined ? undefined : Number(values.timeout) * 1000;
    if (timeout !== undefined && !(timeout > 0)) throw new UsageError(`--timeout must be a number of seconds, got "${values.timeout}"`);
    const command = commandArgs.length === 1 ? commandArgs[0]! : commandArgs.map((a) => quote(a)).join(" ");
    const cluster = await Cluster.attach(values.name ?? DEFAULT_CLUSTER_NAME, values.backend);
    try {
      const node = cluster.node(positionals[0]!);
      const result = await node.run(command, {
        nothrow: true,
        timeout,
        onStdout: (chunk) => process.stdout.write(chunk),
        onStderr: (chunk) => process.stderr.write(chunk),
      });
      if (result.timedOut) process.stderr.write(`labbook: ${node.name}: command timed out after ${values.timeout} s\n`);
      return result.exitCode ?? 128 + 9;
    } finally {
      cluster.close();
    }
  },
};
