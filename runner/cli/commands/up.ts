import { Cluster, DEFAULT_CLUSTER_NAME } from "../../cluster/cluster.ts";
import { getBackend } from "../../backend/registry.ts";
import { CLUSTER_OPTIONS, parseCommandArgs, positiveInteger } from "../args.ts";
import type { CliCommand } from "../command.ts";
import { withInterruptCleanup } from "../interrupt.ts";
import { UsageError } from "../../errors.ts";
import { DEFERRABLE, type DeferrableComponent } from "../../topology/types.ts";

export const up: CliCommand = {
  usage: [
    "labbook up [--name C] [--nodes N] [--topology FILE] [--backend netns|vagrant] [--kubernetes [--defer PART,...]]",
    "  --kubernetes  also start Kubernetes (built by \"labbook kubernetes build\"): ready when every node is Ready and CoreDNS answers",
    "  --defer       with --kubernetes: leave flanneld and/or kube-proxy for you to start in each node (labbook-kubernetes PART)",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs("up", argv, {
      ...CLUSTER_OPTIONS,
      nodes: { type: "string" },
      topology: { type: "string", short: "t" },
      kubernetes: { type: "boolean", short: "k" },
      defer: { type: "string" },
    });
    const defer = values.defer === undefined ? undefined : values.defer.split(",").map((part) => part.trim());
    const unknown = defer?.filter((part) => !(DEFERRABLE as readonly string[]).includes(part)) ?? [];
    if (unknown.length) throw new UsageError(`labbook up: --defer takes ${DEFERRABLE.join(", ")}, not ${unknown.join(", ")}`);
    if (defer && !values.kubernetes) throw new UsageError("labbook up: --defer goes with --kubernetes");
    if (positionals.length > 0) throw new UsageError(`labbook up: unexpected argument "${positionals[0]}"`);
    const backend = getBackend(values.backend);
    const name = values.name ?? DEFAULT_CLUSTER_NAME;
    const started = performance.now();
    const cluster = await withInterruptCleanup(
      () => backend.down(name),
      () =>
        Cluster.up({
          backend,
          name,
          topology: values.topology,
          nodes: positiveInteger("--nodes", values.nodes),
          ...(values.kubernetes ? { kubernetes: defer ? { defer: defer as DeferrableComponent[] } : true } : {}),
          onProgress: (message) => process.stderr.write(`  ${message}...\n`),
        }),
    );
    cluster.close();
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const nodes = cluster.nodes.map((n) => `${n.name} ${n.ip}`).join(", ");
    process.stdout.write(`cluster "${name}" is up (${backend.name}, ${seconds} s): ${nodes}\n`);
    const kubernetes = cluster.description.kubernetes;
    // The hints name the cluster as it must be named to reach it: with --name, and --backend, when not the defaults.
    const reach = `${name === DEFAULT_CLUSTER_NAME ? "" : ` --name ${name}`}${values.backend === undefined ? "" : ` --backend ${values.backend}`}`;
    if (kubernetes?.defer) process.stdout.write(`  Kubernetes ${kubernetes.version}: every node Ready; ${kubernetes.defer.join(" and ")} left for you: labbook exec${reach} NODE -- labbook-kubernetes ${kubernetes.defer[0]}\n`);
    else if (kubernetes) process.stdout.write(`  Kubernetes ${kubernetes.version}: every node Ready, CoreDNS answering\n  try: labbook kubectl${reach} -- get nodes -o wide\n`);
    else process.stdout.write(`  try: labbook exec${reach} ${cluster.nodes[0]!.name} -- ip -br addr\n`);
    return 0;
  },
};
