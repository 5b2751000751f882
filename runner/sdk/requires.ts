// Steps that need something the cluster may not have (Kubernetes itself, real VMs). Headless,
// `labbook run` skips such a cell by its metadata (`requires`) and never runs it; in Jupyter
// every cell runs, so the cell's body is wrapped: on a cluster without the capability it says
// so and does nothing, instead of failing or pretending.
import type { Capability } from "../backend/types.ts";
import type { Cluster } from "../cluster/cluster.ts";

/** Runs `body` only if `cluster` offers `capability`; otherwise prints why the step is skipped. */
export async function onlyWith<T>(cluster: Cluster, capability: Capability, body: () => Promise<T>): Promise<T | undefined> {
  if (cluster.has(capability)) return body();
  console.log(`skipped: this step needs ${capability}: ${cluster.lacks(capability)}`);
  return undefined;
}
