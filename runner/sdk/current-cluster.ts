// The cluster a notebook works on. Headless, `labbook run` names it in the kernel's
// environment; in Jupyter it is the cluster of `labbook up`, or a fresh one.
import { getBackend } from "../backend/registry.ts";
import { Cluster, DEFAULT_CLUSTER_NAME } from "../cluster/cluster.ts";
import { ClusterNotFoundError, LabbookError } from "../errors.ts";
import type { KubernetesRequest } from "../topology/types.ts";
import { settleDeferredParts } from "./kubernetes.ts";

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

/**
 * In Jupyter, every lab shares the cluster of `labbook up`: what one lab built (a docker0, a
 * container named c1) would break the next. A lab's setup asks for a fresh one; headless, the
 * run's cluster is fresh already, and in Jupyter the shared cluster is rebuilt (about 0.3 s).
 */
async function recreate(privileged: string | undefined, kubernetes: boolean | KubernetesRequest | undefined): Promise<Cluster> {
  const backend = getBackend();
  const started = Date.now();
  await backend.down(DEFAULT_CLUSTER_NAME);
  if (kubernetes) console.log(`labbook: starting "${DEFAULT_CLUSTER_NAME}" with Kubernetes (about 10 s)`);
  const fresh = await Cluster.up({ backend, name: DEFAULT_CLUSTER_NAME, ...(privileged ? { privileged } : {}), ...(kubernetes ? { kubernetes } : {}) });
  if (privileged) console.log(`labbook: root in these nodes is root of this machine: ${privileged}`);
  console.log(`labbook: this lab starts on a clean cluster: "${DEFAULT_CLUSTER_NAME}" rebuilt in ${((Date.now() - started) / 1000).toFixed(1)} s (what earlier labs built is gone)`);
  return fresh;
}

export interface ClusterOptions {
  /** Start from a clean cluster (labs ask for this in their setup cell). */
  fresh?: boolean;
  /**
   * Why the lab's nodes need root of the whole machine (GlusterFS). In Jupyter a fresh cluster is made
   * so; headless, the runner makes it from the notebook's metadata.labbook.privileged, which must agree.
   */
  privileged?: string;
  /**
   * The lab runs on Kubernetes. In Jupyter a fresh cluster is started with it (labbook up --kubernetes);
   * headless, the runner does so from the notebook's metadata.labbook.kubernetes, which must agree.
   * `{ defer: ["flanneld", "kube-proxy"] }`: the lab starts those itself (kubernetesStart).
   */
  kubernetes?: boolean | KubernetesRequest;
}

let warnedNoKubernetes = false;
let warnedNotRebuilt = false;
/** Whether this kernel has set kube-proxy and flanneld on a shared cluster as its lab asks (once per notebook). */
let settled = false;

/** The current cluster; every cell of a notebook shares it and its SSH connections. */
export function cluster(options: ClusterOptions = {}): Promise<Cluster> {
  // VMs take minutes to rebuild: on them a lab starts on the cluster as it is (see docs/vagrant.md, "Running labs on VMs").
  const rebuild = options.fresh === true && !process.env[CLUSTER_VARIABLE] && getBackend().runsOn === "fresh";
  if (current === undefined || rebuild) {
    const previous: Promise<Cluster | undefined> = current ?? Promise.resolve(undefined);
    const opening = rebuild
      ? previous.catch(() => undefined).then((old) => {
          old?.close();
          return recreate(options.privileged, options.kubernetes);
        })
      : open();
    current = opening.catch((error: unknown) => {
      current = undefined; // let the next cell try again
      throw error;
    });
  }
  return current.then(async (c) => {
    if (options.fresh === true && getBackend().runsOn === "shared" && !warnedNotRebuilt) {
      console.log(`labbook: cluster "${c.name}" is made of VMs, which are not rebuilt for each lab: this lab starts on them as they are, with what earlier labs left (for a clean start, see docs/vagrant.md, "A clean start")`);
      warnedNotRebuilt = true;
    }
    if (options.kubernetes && c.has("kubernetes") && getBackend().runsOn === "shared" && !settled) {
      settled = true;
      await settleDeferredParts(c, options.kubernetes === true ? {} : options.kubernetes);
    }
    if (options.privileged !== undefined) ensureMachineRoot(c, options.privileged);
    if (options.kubernetes && !c.has("kubernetes") && getBackend().runsOn === "shared") {
      // VMs are as they were provisioned: the lab's Kubernetes cells say they are skipped, and why; the rest runs.
      if (!warnedNoKubernetes) console.log(`labbook: cluster "${c.name}" runs no Kubernetes: this lab's Kubernetes cells will be skipped (provision the VMs with LABBOOK_KUBERNETES=1 to run them)`);
      warnedNoKubernetes = true;
    } else if (options.kubernetes && !c.has("kubernetes")) {
      throw new LabbookError(
        `cluster "${c.name}" runs no Kubernetes, and this lab needs it: give the notebook metadata.labbook.kubernetes = true, ` +
          `or in Jupyter call cluster({ fresh: true, kubernetes: true }) first (or run "labbook up --kubernetes")`,
      );
    }
    return c;
  });
}

/** A lab that needs root of the machine in its nodes gets it, or a clear error instead of GlusterFS's own. */
export function ensureMachineRoot(cluster: Cluster, why: string): Cluster {
  if (cluster.has("machine-root")) return cluster;
  throw new LabbookError(
    `cluster "${cluster.name}" has fenced nodes, but this lab needs root of the machine in them (${why}); ` +
      `give the notebook metadata.labbook.privileged, or in Jupyter call cluster({ fresh: true, privileged }) first`,
  );
}
