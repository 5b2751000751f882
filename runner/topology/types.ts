export interface TopologyNode {
  name: string;
  ip: string;
  roles: string[];
  memory: number;
  cpus: number;
}

export interface Topology {
  /** Where it was read from, for error messages ("<built-in>" when generated). */
  source: string;
  /** `internet`: a stand-in "internet" host behind the gateway (RFC 5737 address), when configured. */
  network: { cidr: string; gateway: string; prefix: number; internet?: string };
  nodes: TopologyNode[];
}
