export interface TopologyNode {
  name: string;
  ip: string;
  roles: string[];
  memory: number;
  cpus: number;
  /** The node's interface on the LAN, filled in by the backend: eth0 in namespaces, eth1 on Vagrant VMs. */
  lanInterface?: string;
}

export interface Topology {
  /** Where it was read from, for error messages ("<built-in>" when generated). */
  source: string;
  /** `internet`: a stand-in "internet" host behind the gateway (RFC 5737 address), when configured. */
  network: { cidr: string; gateway: string; prefix: number; internet?: string };
  nodes: TopologyNode[];
  /** Kubernetes runs on the cluster: `kubernetes:` in the topology file, or `labbook up --kubernetes`. */
  kubernetes?: KubernetesSettings;
}

/**
 * Parts of Kubernetes a lab starts itself, after building the same by hand (`labbook-kubernetes flanneld` on a
 * node; the SDK's kubernetesStart): until then, pods wait for flanneld (nodes keep their taint) and no
 * kube-proxy writes the KUBE-* chains.
 */
export const DEFERRABLE = ["flanneld", "kube-proxy"] as const;
export type DeferrableComponent = (typeof DEFERRABLE)[number];

/** What a lab or `labbook up` asks of Kubernetes beyond the topology's settings. */
export interface KubernetesRequest {
  defer?: DeferrableComponent[];
}

export interface KubernetesSettings {
  /** The release the topology asks for; labbook runs one (kubernetes/versions.ts), which `up` checks. */
  version?: string;
  /** KubeletConfiguration fields that override labbook's own. */
  kubelet?: Record<string, unknown>;
  /** Started by the lab, not at `up`. */
  defer?: DeferrableComponent[];
}
