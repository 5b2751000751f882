// Kubernetes from a lab: objects from manifests, shown as a person would apply them, and the parts a lab
// deferred (metadata.labbook.kubernetes.defer) started once the student has built the same by hand.
import type { Cluster } from "../cluster/cluster.ts";
import type { Node } from "../cluster/node.ts";
import { CommandError, type CommandResult } from "../cluster/result.ts";
import { LabbookError } from "../errors.ts";
import { DEFERRABLE, type DeferrableComponent, type KubernetesRequest } from "../topology/types.ts";
import { sh } from "./show.ts";

/**
 * What the apiserver answers when it, or its etcd, is too slow for a moment (a busy VM under software emulation):
 * the same apply may simply be made again.
 */
const MOMENTARY = /etcdserver: request timed out|etcdserver: leader changed|TLS handshake timeout|the server was unable to return a response in the time allotted/;
const APPLY_ATTEMPTS = 3;

/**
 * Writes `manifest` (YAML) to `file` on `node` (under /root unless absolute), then prints and runs `kubectl apply -f`
 * on it; again, saying so, when the apiserver was only too slow to answer (apply is idempotent).
 */
export async function kubectlApply(node: Node, manifest: string, file: string): Promise<CommandResult> {
  const path = file.startsWith("/") ? file : `/root/${file}`;
  await node.put(Buffer.from(manifest), path);
  for (let attempt = 1; ; attempt++) {
    try {
      return await sh(node, `kubectl apply -f ${path}`);
    } catch (error) {
      const momentary = error instanceof CommandError ? MOMENTARY.exec(`${error.result.stderr}\n${error.result.stdout}`) : null;
      if (!momentary || attempt >= APPLY_ATTEMPTS) throw error;
      console.log(`(the apiserver was too slow to answer, "${momentary[0]}"; applying the same file again, ${attempt + 1} of ${APPLY_ATTEMPTS})`);
    }
  }
}

/**
 * Starts a part of Kubernetes the lab deferred, on every node, as the cluster's start would have:
 * flanneld leases the node's pod CIDR and lifts the node's taint (pods may come); kube-proxy writes its
 * chains. Returns once each node has it running.
 */
export async function kubernetesStart(c: Cluster, part: DeferrableComponent): Promise<void> {
  if (!c.has("kubernetes")) throw new LabbookError(`cluster "${c.name}" runs no Kubernetes: nothing to start ${part} for`);
  for (const node of c.nodes) await sh(node, `labbook-kubernetes ${part}`); // one node after another: output a student can read
}

/**
 * On a cluster that outlives its labs (VMs), Kubernetes runs whole: kube-proxy and flanneld as DaemonSets.
 * A lab that defers them gets them stopped, and what they set up undone, on every node (`labbook-kubernetes
 * defer PART`), as on an embedded cluster started for it; the other parts run (`labbook-kubernetes PART`,
 * which returns at once where it runs already). What the lab itself built earlier is not undone: that is
 * `labbook reset`'s work.
 */
export async function settleDeferredParts(c: Cluster, request: KubernetesRequest): Promise<void> {
  const deferred = new Set(request.defer ?? []);
  const started = Date.now();
  await Promise.all(
    c.nodes.map(async (node) => {
      for (const part of DEFERRABLE) {
        const result = await node.$({ nothrow: true })`labbook-kubernetes ${deferred.has(part) ? ["defer", part] : [part]}`;
        if (!result.ok) throw new LabbookError(`${node.name}: labbook-kubernetes ${deferred.has(part) ? "defer " : ""}${part} failed: ${(result.stderr || result.stdout).trim()}`);
      }
    }),
  );
  const said = deferred.size > 0 ? `${[...deferred].join(" and ")} stopped on every node (this lab starts them itself)` : "kube-proxy and flanneld run on every node";
  console.log(`labbook: ${said}, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
