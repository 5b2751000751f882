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

export interface KubernetesSettings {
  /** The release the topology asks for; labbook runs one (kubernetes/versions.ts), which `up` checks. */
  version?: string;
  /** KubeletConfiguration fields that override labbook's own. */
  kubelet?: Record<string, unknown>;
}
