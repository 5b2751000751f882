import { Cluster, DEFAULT_CLUSTER_NAME } from "../../cluster/cluster.ts";
import { UsageError } from "../../errors.ts";
import { CLUSTER_OPTIONS, parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";

export const ssh: CliCommand = {
  usage: "labbook ssh [--name C] <node>",
  async run(argv) {
    const { values, positionals } = parseCommandArgs("ssh", argv, CLUSTER_OPTIONS);
    if (positionals.length !== 1) throw new UsageError(`usage: ${this.usage}`);
    const cluster = await Cluster.attach(values.name ?? DEFAULT_CLUSTER_NAME, values.backend);
    try {
      const node = cluster.node(positionals[0]!);
      const connection = await cluster.connection(node.name);
      const tty = process.stdin.isTTY && process.stdout.isTTY;
      const channel = await connection.shell({ rows: process.stdout.rows ?? 24, cols: process.stdout.columns ?? 80, term: process.env.TERM ?? "xterm" }, tty);
      const resize = () => channel.setWindow(process.stdout.rows, process.stdout.columns, 0, 0);
      if (tty) {
        process.stdin.setRawMode(true);
        process.stdout.on("resize", resize);
      }
      process.stdin.pipe(channel);
      channel.pipe(process.stdout);
      channel.stderr.pipe(process.stderr);
      const code = await new Promise<number>((resolve) => {
        let exitCode = 0;
        channel.on("exit", (c: number | null) => (exitCode = c ?? 255));
        channel.on("close", () => resolve(exitCode));
      });
      if (tty) process.stdin.setRawMode(false);
      process.stdout.off("resize", resize);
      process.stdin.unpipe(channel);
      process.stdin.pause();
      return code;
    } finally {
      cluster.close();
    }
  },
};
