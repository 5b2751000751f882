import { quote } from "zx/core";
import { Cluster, DEFAULT_CLUSTER_NAME } from "../../cluster/cluster.ts";
import { LabbookError, UsageError } from "../../errors.ts";
import { kubernetesLayout } from "../../kubernetes/layout.ts";
import { CLUSTER_OPTIONS, parseCommandArgs, splitAtDoubleDash } from "../args.ts";
import type { CliCommand } from "../command.ts";

/** kubectl on the cluster's control-plane node, as root with its admin kubeconfig: the host needs no kubectl and no route to the apiserver. */
export const kubectl: CliCommand = {
  usage: "labbook kubectl [--name C] -- <kubectl arguments...>   e.g. labbook kubectl -- get nodes -o wide",
  async run(argv) {
    const [own, args] = splitAtDoubleDash(argv);
    const { values, positionals } = parseCommandArgs("kubectl", own, { ...CLUSTER_OPTIONS });
    // `labbook kubectl get nodes` works too: without "--", the positionals are kubectl's.
    const kubectlArgs = args ?? positionals;
    if (args && positionals.length > 0) throw new UsageError(`labbook kubectl: unexpected argument "${positionals[0]}" before "--"`);
    if (kubectlArgs.length === 0) throw new UsageError(`usage: ${this.usage}`);
    const cluster = await Cluster.attach(values.name ?? DEFAULT_CLUSTER_NAME, values.backend);
    try {
      if (!cluster.has("kubernetes")) {
        throw new LabbookError(`cluster "${cluster.name}" runs no Kubernetes: start one with "labbook up --kubernetes${cluster.name === DEFAULT_CLUSTER_NAME ? "" : ` --name ${cluster.name}`}"`);
      }
      const { controlPlane } = kubernetesLayout(cluster.name, cluster.topology);
      const pipedManifest = kubectlArgs.includes("-") && !process.stdin.isTTY;
      const result = await cluster.node(controlPlane.name).run(["kubectl", ...kubectlArgs].map((a) => quote(a)).join(" "), {
        nothrow: true,
        ...(pipedManifest ? { input: await readStdin() } : {}),
        onStdout: (chunk) => process.stdout.write(chunk),
        onStderr: (chunk) => process.stderr.write(chunk),
      });
      return result.exitCode ?? 1;
    } finally {
      cluster.close();
    }
  },
};

/** `labbook kubectl -- apply -f - < pod.yaml`: the manifest travels as the command's stdin. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
