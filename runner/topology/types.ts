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
  network: { cidr: string; gateway: string; prefix: number };
  nodes: TopologyNode[];
}
