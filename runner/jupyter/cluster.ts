// The cluster a notebook server's kernels use: attached to if it is up, else started.
import type { Backend } from "../backend/types.ts";
import { Cluster } from "../cluster/cluster.ts";
import { ClusterNotFoundError, LabbookError } from "../errors.ts";

/** Attaches to the cluster, or starts it. Returns whether it was started here. */
export async function ensureCluster(name: string, backend: Backend, onProgress?: (message: string) => void): Promise<boolean> {
  try {
    (await Cluster.attach(name, backend)).close();
  } catch (error) {
    if (!(error instanceof ClusterNotFoundError)) throw error;
    // VMs take minutes to start and outlive a session: they are started on purpose, not behind Jupyter's back.
    if (backend.runsOn === "shared") throw error;
    onProgress?.(`starting cluster "${name}"`);
    // Ephemeral: if this session is killed, the next `up` removes the cluster it started.
    (await Cluster.up({ backend, name, onProgress, ephemeral: true })).close();
    return true;
  }
  const status = (await backend.list()).find((c) => c.name === name);
  if (status && status.state !== "up") {
    throw new LabbookError(`cluster "${name}" is ${status.state}: "labbook down --name ${name}" removes it, then try again`);
  }
  return false;
}
