// The files a Kubernetes node starts with, as one archive that the node extracts into its own root:
// credentials, and the configuration of containerd, kubelet, kube-proxy, flannel and the CNI plugin.
import { createRequire } from "node:module";
import type { TarEntry } from "../host/tar.ts";
import type { TopologyNode } from "../topology/types.ts";
import { CLUSTER_DOMAIN, DNS_SERVICE_IP, FLANNEL_BACKEND, POD_CIDR, type KubernetesLayout } from "./layout.ts";
import type { ClusterCredentials } from "./pki.ts";

/**
 * Every node registers with this taint, and node-kubernetes.sh removes it once flanneld has written the node's
 * subnet.env: a pod scheduled before that would fail its sandbox's CNI ADD and wait out kubelet's back-off.
 */
export const FLANNEL_TAINT = "labbook.dev/flannel";

/** The pause image every pod's sandbox runs (runner/kubernetes/images.ts builds it). */
export const SANDBOX_IMAGE = "labbook/pause:1";

/**
 * The YAML writer, loaded on first use: every kernel's SDK imports this module (through the embedded backend) and
 * would load the yaml package's 72 modules at each start otherwise, for files written only at `up`.
 */
const yaml = (): typeof import("yaml") => createRequire(import.meta.url)("yaml") as typeof import("yaml");

const file = (path: string, content: string | Buffer, mode = 0o644): TarEntry => ({ path: path.replace(/^\//, ""), type: "file", mode, content });

// containerd 1.6's CRI plugin as kind configures it, less what this machine does not have: no AppArmor
// profile is loaded (that would change the host's kernel), no hugetlb controller (cgroup v1 lacks it here).
const CONTAINERD_CONFIG = `version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${SANDBOX_IMAGE}"
  disable_apparmor = true
  disable_hugetlb_controller = true
  tolerate_missing_hugetlb_controller = true
  # Root of a node lacks CAP_SYS_RESOURCE (host/holder.ts), so no container may ask for a lower OOM
  # score than containerd's own (a Guaranteed pod's -997 would fail to start).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/opt/cni/bin"
    conf_dir = "/etc/cni/net.d"
`;

// flannel's CNI configuration, as kube-flannel.yml installs it.
const CNI_CONFLIST = `{
  "name": "cbr0",
  "cniVersion": "0.3.1",
  "plugins": [
    { "type": "flannel", "delegate": { "hairpinMode": true, "isDefaultGateway": true } },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
`;

const FLANNEL_NET_CONF = `{
  "Network": "${POD_CIDR}",
  "Backend": { "Type": "${FLANNEL_BACKEND}" }
}
`;

/** labbook's KubeletConfiguration, with the topology's fields (kubernetes.kubelet) over it. */
function kubeletConfig(overrides: Record<string, unknown> = {}): string {
  const config = {
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: "/etc/kubernetes/pki/ca.crt" } },
    authorization: { mode: "Webhook" },
    containerRuntimeEndpoint: "unix:///run/containerd/containerd.sock",
    clusterDNS: [DNS_SERVICE_IP],
    clusterDomain: CLUSTER_DOMAIN,
    staticPodPath: "/etc/kubernetes/manifests",
    // This machine has cgroup v1; kubelet refuses it from 1.35 on unless told otherwise.
    cgroupDriver: "cgroupfs",
    failCgroupV1: false,
    failSwapOn: false,
    // The nodes share the machine's disks and memory: never evict or collect images for lack of them (as kind does).
    imageGCHighThresholdPercent: 100,
    evictionHard: { "nodefs.available": "0%", "nodefs.inodesFree": "0%", "imagefs.available": "0%" },
    serializeImagePulls: false,
    rotateCertificates: false,
    healthzBindAddress: "127.0.0.1",
    registerWithTaints: [{ key: FLANNEL_TAINT, value: "starting", effect: "NoSchedule" }],
    ...overrides,
  };
  return yaml().stringify(config);
}

function kubeProxyConfig(node: TopologyNode): string {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: /etc/kubernetes/kube-proxy.conf}
clusterCIDR: ${POD_CIDR}
hostnameOverride: ${node.name}
# nf_conntrack_max and the conntrack hash size are the whole machine's: kube-proxy must leave them alone.
conntrack: {maxPerCore: 0, min: 0}
`;
}

/** Everything node `node` extracts into its root before its Kubernetes parts start. */
export function nodeFiles(layout: KubernetesLayout, node: TopologyNode, credentials: ClusterCredentials, kubelet?: Record<string, unknown>): TarEntry[] {
  const controlPlane = node.name === layout.controlPlane.name;
  const pki = Object.entries(credentials.pki).filter(([name]) => controlPlane || name === "ca.crt");
  return [
    ...pki.map(([name, content]) => file(`/etc/kubernetes/pki/${name}`, content, name.endsWith(".key") ? 0o600 : 0o644)),
    file("/etc/kubernetes/admin.conf", credentials.admin, 0o600),
    file("/root/.kube/config", credentials.admin, 0o600),
    file("/etc/kubernetes/kubelet.conf", credentials.kubelet[node.name]!, 0o600),
    file("/etc/kubernetes/kube-proxy.conf", credentials.kubeProxy, 0o600),
    file("/etc/kubernetes/flannel.conf", credentials.flannel, 0o600),
    ...(controlPlane
      ? [file("/etc/kubernetes/super-admin.conf", credentials.superAdmin, 0o600), file("/etc/kubernetes/controller-manager.conf", credentials.controllerManager, 0o600), file("/etc/kubernetes/scheduler.conf", credentials.scheduler, 0o600)]
      : []),
    file("/var/lib/kubelet/config.yaml", kubeletConfig(kubelet)),
    file("/var/lib/kube-proxy/config.yaml", kubeProxyConfig(node)),
    file("/etc/containerd/config.toml", CONTAINERD_CONFIG),
    // From the start, so that kubelet finds the network ready at once (it looks again only every 5 s);
    // the node's FLANNEL_TAINT keeps pods off it until flanneld has leased its subnet.
    file("/etc/cni/net.d/10-flannel.conflist", CNI_CONFLIST),
    file("/etc/kube-flannel/net-conf.json", FLANNEL_NET_CONF),
  ];
}
