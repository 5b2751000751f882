// The pinned versions of everything labbook builds for Kubernetes. One place: the build's cache key,
// `labbook doctor`, `labbook status` and the tests all read them from here.
//
// Kubernetes v1.35.4, the newest release that runs here: this machine has cgroup v1, and 1.35 is the last
// minor release that supports containerd 1.x (Debian 12 ships 1.6.20 with runc 1.1.5). From 1.36 on,
// kubelet needs containerd 2, which would mean building containerd and runc too, for no gain in what the
// labs teach. 1.35 still runs on cgroup v1 with `failCgroupV1: false`. Debian's etcd 3.4.23 serves its
// apiserver (measured: the apiserver starts and allocates 10.96.0.1), so etcd is not built.
import { TopologyError } from "../topology/errors.ts";
import type { Topology } from "../topology/types.ts";

export const KUBERNETES_VERSION = "v1.35.4";
/** Every k8s.io staging module at the tag that matches KUBERNETES_VERSION (infra/go/kube/go.mod). */
export const STAGING_VERSION = "v0.35.4";
export const COREDNS_VERSION = "v1.14.6";
export const FLANNEL_VERSION = "v0.28.10";
/**
 * flannel's CNI plugin. flannel-io/cni-plugin is refused by the Go module proxy here (403), so labbook
 * builds the same plugin from where it lived before that repository: containernetworking/plugins'
 * plugins/meta/flannel, last shipped in v0.9.1 (Debian's containernetworking-plugins 1.1.1 no longer has it).
 */
export const FLANNEL_CNI_VERSION = "v0.9.1";
/** flannel needs Go 1.26 (its go.mod); Kubernetes 1.35 needs 1.25. */
export const MINIMUM_GO = "1.26";

/** A topology that asks for another Kubernetes release than the one labbook builds: refused before any node starts. */
export function checkKubernetesVersion(topology: Topology): void {
  const version = topology.kubernetes?.version;
  if (version === undefined || version.replace(/^v?/, "v") === KUBERNETES_VERSION) return;
  throw new TopologyError(topology.source, [
    { path: "kubernetes.version", message: `labbook builds and runs Kubernetes ${KUBERNETES_VERSION} only, not ${version} (the newest release that runs on this machine's cgroup v1 with Debian's containerd 1.6; see runner/kubernetes/versions.ts): remove the version or set it to ${KUBERNETES_VERSION}` },
  ]);
}
