// A cell's `requires`: capability names ("kubernetes", "vm") and nodes ("node:node3"). A cell whose
// requirements the cluster does not meet is skipped with the reason, never run to fail or pretend.
import type { Cluster } from "../cluster/cluster.ts";

const NODE_PREFIX = "node:";

/** Why `cluster` cannot run a cell that requires `requires`, or undefined if it can. */
export function unmetRequirements(cluster: Cluster, requires: readonly string[]): string | undefined {
  const nodes = requires.filter((r) => r.startsWith(NODE_PREFIX)).map((r) => r.slice(NODE_PREFIX.length));
  const missingNodes = nodes.filter((name) => !cluster.nodes.some((n) => n.name === name));
  const missingCapabilities = requires.filter((r) => !r.startsWith(NODE_PREFIX) && !cluster.has(r as never));
  const reasons = [
    ...missingCapabilities.map((capability) => `needs ${capability}: ${cluster.lacks(capability as never)}`),
    ...(missingNodes.length ? [`needs ${missingNodes.join(", ")}, which this ${cluster.nodes.length}-node cluster does not have`] : []),
  ];
  return reasons.length ? reasons.join("; ") : undefined;
}
