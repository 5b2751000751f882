// Where a labbook Kubernetes cluster's parts live: the same addresses as `kubeadm init` with flannel,
// which the lesson's chains, routes and DNS names assume.
import type { Topology, TopologyNode } from "../topology/types.ts";

export const POD_CIDR = "10.244.0.0/16";
export const SERVICE_CIDR = "10.96.0.0/12";
/** The first address of the service range: the `kubernetes` Service, in front of the apiserver. */
export const APISERVER_SERVICE_IP = "10.96.0.1";
export const DNS_SERVICE_IP = "10.96.0.10";
export const CLUSTER_DOMAIN = "cluster.local";
export const APISERVER_PORT = 6443;
/** Kubernetes' etcd, with TLS as kubeadm runs it, on the control plane's loopback only. */
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;
export const FLANNEL_BACKEND = "vxlan";

export interface KubernetesLayout {
  /** The cluster's name: kubeconfig's cluster and context. */
  name: string;
  controlPlane: TopologyNode;
  nodes: TopologyNode[];
}

/** node1, or whichever node infra/cluster.yaml gives the control-plane role. */
export function controlPlaneNode(topology: Topology): TopologyNode {
  const controlPlane = topology.nodes.find((n) => n.roles.includes("control-plane")) ?? topology.nodes[0];
  if (!controlPlane) throw new Error("a Kubernetes cluster needs at least one node");
  return controlPlane;
}

export function kubernetesLayout(name: string, topology: Topology): KubernetesLayout {
  return { name, controlPlane: controlPlaneNode(topology), nodes: topology.nodes };
}

export function apiserverUrl(layout: KubernetesLayout): string {
  return `https://${layout.controlPlane.ip}:${APISERVER_PORT}`;
}
