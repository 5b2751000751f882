// The cluster a notebook works on. Headless, `labbook run` names it in the kernel's
// environment; in Jupyter it is the cluster of `labbook up`, or a fresh one.
import { getBackend } from "../backend/registry.ts";
import { Cluster, DEFAULT_CLUSTER_NAME } from "../cluster/cluster.ts";
import { ClusterNotFoundError } from "../errors.ts";

/** Set by `labbook run` for the kernel it starts. */
export const CLUSTER_VARIABLE = "LABBOOK_CLUSTER";

let current: Promise<Cluster> | undefined;

async function open(): Promise<Cluster> {
  const backend = getBackend();
  const assigned = process.env[CLUSTER_VARIABLE];
  if (assigned) return Cluster.attach(assigned, backend);
  try {
    return await Cluster.attach(DEFAULT_CLUSTER_NAME, backend);
  } catch (error) {
    if (!(error instanceof ClusterNotFoundError)) throw error;
    console.log(`labbook: no cluster is up; starting "${DEFAULT_CLUSTER_NAME}" (labbook down removes it)`);
    return Cluster.up({ backend, name: DEFAULT_CLUSTER_NAME });
  }
}

/** The current cluster; every cell of a notebook shares it and its SSH connections. */
export function cluster(): Promise<Cluster> {
  current ??= open().catch((error: unknown) => {
    current = undefined; // let the next cell try again
    throw error;
  });
  return current;
}
