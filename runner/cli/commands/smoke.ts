import { Cluster } from "../../cluster/cluster.ts";
import { getBackend } from "../../backend/registry.ts";
import { UsageError } from "../../errors.ts";
import { CLUSTER_OPTIONS, parseCommandArgs, positiveInteger } from "../args.ts";
import type { CliCommand } from "../command.ts";
import { withInterruptCleanup } from "../interrupt.ts";

interface Step {
  name: string;
  run(cluster: Cluster): Promise<void>;
}

const steps: Step[] = [
  {
    name: "each node reports its own hostname",
    async run(cluster) {
      const names = await cluster.all.$`hostname`;
      const wrong = cluster.nodes.filter((node, i) => String(names[i]) !== node.name);
      if (wrong.length) throw new Error(`wrong hostnames: ${wrong.map((n, i) => `${n.name} says ${String(names[i])}`).join(", ")}`);
    },
  },
  {
    name: "the first node pings every other node",
    async run(cluster) {
      const [first, ...others] = cluster.nodes;
      await Promise.all(others.map((peer) => first!.$`ping -c1 -W2 ${peer.ip}`));
    },
  },
  {
    name: "the first node reaches the others over ssh",
    async run(cluster) {
      const [first, ...others] = cluster.nodes;
      for (const peer of others) {
        const seen = String(await first!.$`ssh -o BatchMode=yes ${peer.name} hostname`);
        if (seen !== peer.name) throw new Error(`ssh ${peer.name} answered "${seen}"`);
      }
    },
  },
];

export const smoke: CliCommand = {
  usage: "labbook smoke [--name C] [--nodes N] [--backend netns|vagrant]",
  async run(argv) {
    const { values, positionals } = parseCommandArgs("smoke", argv, { ...CLUSTER_OPTIONS, nodes: { type: "string" } });
    if (positionals.length > 0) throw new UsageError(`labbook smoke: unexpected argument "${positionals[0]}"`);
    const backend = getBackend(values.backend);
    const name = values.name ?? "smoke";
    return withInterruptCleanup(
      () => backend.down(name),
      async () => {
        let started = performance.now();
        const cluster = await Cluster.up({ backend, name, nodes: positiveInteger("--nodes", values.nodes) ?? 3 });
        let failures = 0;
        try {
          report(true, `cluster "${name}" up with ${cluster.nodes.length} nodes`, started);
          for (const step of steps) {
            started = performance.now();
            try {
              await step.run(cluster);
              report(true, step.name, started);
            } catch (error) {
              failures++;
              report(false, `${step.name}: ${(error as Error).message}`, started);
            }
          }
        } finally {
          started = performance.now();
          await cluster.down();
          report(true, `cluster "${name}" down`, started);
        }
        process.stdout.write(`${steps.length - failures} passed, ${failures} failed\n`);
        return failures ? 1 : 0;
      },
    );
  },
};

function report(ok: boolean, message: string, since: number): void {
  process.stdout.write(`${ok ? "  ok  " : "  FAIL"} ${message} (${Math.round(performance.now() - since)} ms)\n`);
}
