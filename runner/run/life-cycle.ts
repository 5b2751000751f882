// The cluster and the kernel of one run: started together (tslab takes about 2 s to warm, the time a
// cluster takes to start), ended together whatever happens, and killed at once on Ctrl-C.
import type { KubernetesRequest } from "../topology/types.ts";
import type { Backend } from "../backend/types.ts";
import { Cluster } from "../cluster/cluster.ts";
import type { KernelClient, KernelOptions } from "../kernel/client.ts";
import type { CellSession } from "./cell-session.ts";
import { KernelSession } from "./kernel-session.ts";

export interface LifeCycleOptions {
  backend: Backend;
  clusterName: string;
  /** Host paths the nodes must not see. */
  hide: string[];
  privileged: string | undefined;
  /** What the notebook asks of Kubernetes (metadata.labbook.kubernetes), or undefined for none. */
  kubernetes: KubernetesRequest | undefined;
  /** The kernel's options; `cluster` settles once the cluster is up (a sandboxed kernel joins its LAN then). */
  kernel: (cluster: () => Promise<Cluster>) => KernelOptions;
  /** Called with a function that stops everything at once (for Ctrl-C). */
  onAbortHandle?: ((abort: () => Promise<void>) => void) | undefined;
  /** A kernel started ahead with `kernel`'s options (kernel-handoff.ts), adopted instead of starting one. */
  prestartedKernel?: Promise<KernelClient> | undefined;
}

export interface RunningRun {
  cluster: Cluster;
  /** The session that runs the next cell. */
  session(): CellSession;
  /** Ends the current session and starts `next` in its place, for the cells from here on. */
  switchTo(next: CellSession): Promise<void>;
  /** Ends the session and lets the cluster go. */
  end(): Promise<void>;
}

export async function startRun(options: LifeCycleOptions): Promise<RunningRun> {
  let clusterPromise: Promise<Cluster> | undefined;
  let session: CellSession = new KernelSession(options.kernel(() => clusterPromise!), options.prestartedKernel);
  // A shared cluster (VMs) outlives the run: the runner attaches to it and never takes it down.
  const fresh = options.backend.runsOn === "fresh";
  const release = (name: string) => (fresh ? options.backend.down(name) : Promise.resolve());
  options.onAbortHandle?.(async () => {
    session.kill();
    await release(options.clusterName);
  });
  clusterPromise = fresh
    ? Cluster.up({ backend: options.backend, name: options.clusterName, ephemeral: true, hide: options.hide, ...(options.privileged ? { privileged: options.privileged } : {}), ...(options.kubernetes ? { kubernetes: options.kubernetes } : {}) })
    : Cluster.attach(options.clusterName, options.backend);
  const [clusterUp, kernel] = await Promise.allSettled([clusterPromise, session.start()]);
  if (clusterUp.status === "rejected" || kernel.status === "rejected") {
    session.kill();
    if (clusterUp.status === "fulfilled") {
      clusterUp.value.close();
      await release(clusterUp.value.name);
    }
    throw clusterUp.status === "rejected" ? clusterUp.reason : (kernel as PromiseRejectedResult).reason;
  }
  const cluster = clusterUp.value;
  cluster.close(); // the kernel opens its own connections; the runner only owns the cluster's life
  const endSession = () => session.close().catch(() => session.kill());
  return {
    cluster,
    session: () => session,
    async switchTo(next) {
      await endSession();
      session = next;
      await session.start();
    },
    async end() {
      await endSession();
      await release(cluster.name);
    },
  };
}
