import { getBackend } from "../../backend/registry.ts";
import type { ClusterStatus } from "../../backend/types.ts";
import { UsageError } from "../../errors.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";
import { formatAge, formatTable } from "../table.ts";

export const status: CliCommand = {
  usage: "labbook status [--json] [--backend netns|vagrant]",
  async run(argv) {
    const { values, positionals } = parseCommandArgs("status", argv, { backend: { type: "string", short: "b" }, json: { type: "boolean" } });
    if (positionals.length > 0) throw new UsageError(`labbook status: unexpected argument "${positionals[0]}"`);
    const clusters = await getBackend(values.backend).list();
    if (values.json) {
      process.stdout.write(JSON.stringify(clusters, null, 2) + "\n");
      return 0;
    }
    if (clusters.length === 0) {
      process.stdout.write("no clusters (start one with: labbook up)\n");
      return 0;
    }
    const rows = clusters.flatMap((c) => {
      const nodes = c.nodes.length ? c.nodes : [{ name: "-", ip: "-", pid: undefined, running: false }];
      return nodes.map((n, i) => [
        i === 0 ? c.name : "",
        i === 0 ? c.backend : "",
        i === 0 ? c.state : "",
        i === 0 ? formatAge(c.createdAt) : "",
        n.name,
        n.ip,
        n.pid === undefined ? "-" : String(n.pid),
        n.running ? "running" : "stopped",
        i === 0 ? kubernetesColumn(c) : "",
      ]);
    });
    // KUBERNETES last: scripts that read the first columns keep working.
    process.stdout.write(formatTable(["CLUSTER", "BACKEND", "STATE", "AGE", "NODE", "ADDRESS", "PID", "NODE STATE", "KUBERNETES"], rows));
    for (const c of clusters) {
      if (c.kubernetes?.detail) process.stdout.write(`\n${c.name}: the apiserver is ${c.kubernetes.apiserver}: ${c.kubernetes.detail}\n`);
    }
    const broken = clusters.filter((c) => c.state === "down" || c.state === "degraded");
    if (broken.length) process.stdout.write(`\nleftovers of crashed runs: labbook down --all removes them\n`);
    return 0;
  },
};

/** "-" without Kubernetes; its release, and what its apiserver said when it was asked (see ClusterStatus). */
function kubernetesColumn(cluster: ClusterStatus): string {
  if (!cluster.kubernetes) return "-";
  const { version, apiserver } = cluster.kubernetes;
  return apiserver ? `${version} ${apiserver}` : version;
}
