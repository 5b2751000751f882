import { formatIpv4, isDocumentationAddress, isHostAddress, isPrivateCidr, parseCidr, parseIpv4 } from "./ipv4.ts";
import type { DeferrableComponent, KubernetesRequest, Topology, TopologyNode } from "./types.ts";

export interface TopologyProblem {
  /** Dotted path of the offending field, e.g. "nodes.2.ip". */
  path: string;
  message: string;
}

export interface RawTopology {
  network: { cidr: string; gateway: string; internet?: string };
  nodes: Array<{ name: string; ip: string; roles?: string[]; memory?: number; cpus?: number }>;
  kubernetes?: boolean | { version?: string; kubelet?: Record<string, unknown>; defer?: DeferrableComponent[] };
}

/** Rules that relate fields to each other; the JSON schema has already checked the shape. */
export function validateTopology(raw: RawTopology, source: string): { topology: Topology; problems: TopologyProblem[] } {
  const problems: TopologyProblem[] = [];
  const cidr = parseCidr(raw.network.cidr);
  if (!cidr) {
    problems.push({ path: "network.cidr", message: `"${raw.network.cidr}" is not an IPv4 network like 192.168.0.0/24` });
  } else if (!isPrivateCidr(cidr)) {
    problems.push({ path: "network.cidr", message: `${raw.network.cidr} is not a private (RFC 1918) range` });
  } else if (cidr.prefix > 29) {
    problems.push({ path: "network.cidr", message: "the prefix must be /29 or shorter to hold a gateway and nodes" });
  }
  const gateway = parseIpv4(raw.network.gateway);
  if (gateway === undefined) {
    problems.push({ path: "network.gateway", message: `"${raw.network.gateway}" is not an IPv4 address` });
  } else if (cidr && !isHostAddress(gateway, cidr)) {
    problems.push({ path: "network.gateway", message: `${raw.network.gateway} is not a host address in ${raw.network.cidr}` });
  }
  if (raw.network.internet !== undefined) {
    const internet = parseIpv4(raw.network.internet);
    if (internet === undefined) problems.push({ path: "network.internet", message: `"${raw.network.internet}" is not an IPv4 address` });
    // A documentation address can never be the real internet's, so a lab cannot reach out by mistake.
    else if (!isDocumentationAddress(internet)) problems.push({ path: "network.internet", message: `${raw.network.internet} is not in a documentation range (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24)` });
  }

  const kubernetes = raw.kubernetes === true ? {} : raw.kubernetes === false ? undefined : raw.kubernetes;

  const names = new Map<string, number>();
  const ips = new Map<number, number>();
  raw.nodes.forEach((node, index) => {
    const at = `nodes.${index}`;
    const previous = names.get(node.name);
    if (previous !== undefined) problems.push({ path: `${at}.name`, message: `"${node.name}" is already the name of nodes.${previous}` });
    names.set(node.name, index);
    const ip = parseIpv4(node.ip);
    if (ip === undefined) {
      problems.push({ path: `${at}.ip`, message: `"${node.ip}" is not an IPv4 address` });
      return;
    }
    if (cidr && !isHostAddress(ip, cidr)) problems.push({ path: `${at}.ip`, message: `${node.ip} is not a host address in ${raw.network.cidr}` });
    if (ip === gateway) problems.push({ path: `${at}.ip`, message: `${node.ip} is the gateway's address` });
    const other = ips.get(ip);
    if (other !== undefined) problems.push({ path: `${at}.ip`, message: `${node.ip} is already the address of nodes.${other}` });
    ips.set(ip, index);
  });

  const topology: Topology = {
    source,
    network: { cidr: raw.network.cidr, gateway: raw.network.gateway, prefix: cidr?.prefix ?? 24, ...(raw.network.internet === undefined ? {} : { internet: raw.network.internet }) },
    nodes: raw.nodes.map((n) => ({ name: n.name, ip: n.ip, roles: n.roles ?? [], memory: n.memory ?? 1024, cpus: n.cpus ?? 1 })),
    ...(kubernetes ? { kubernetes: { ...(kubernetes.version === undefined ? {} : { version: kubernetes.version }), ...(kubernetes.kubelet ? { kubelet: kubernetes.kubelet } : {}), ...(kubernetes.defer?.length ? { defer: kubernetes.defer } : {}) } } : {}),
  };
  return { topology, problems };
}

/**
 * The first `count` nodes of the topology. Past its end, nodes continue the
 * naming and addressing of the last one (node4 at .14, ...), as workers.
 */
export function withNodeCount(topology: Topology, count: number): Topology {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`node count must be a positive integer, got ${count}`);
  const nodes: TopologyNode[] = topology.nodes.slice(0, count);
  const cidr = parseCidr(topology.network.cidr)!;
  const taken = new Set([...topology.nodes.map((n) => n.ip), topology.network.gateway]);
  let ip = Math.max(...nodes.map((n) => parseIpv4(n.ip)!));
  while (nodes.length < count) {
    ip += 1;
    if (!isHostAddress(ip, cidr)) throw new RangeError(`${topology.network.cidr} has no room for ${count} nodes`);
    if (taken.has(formatIpv4(ip))) continue;
    const name = `node${nodes.length + 1}`;
    if (nodes.some((n) => n.name === name)) throw new RangeError(`cannot derive a name for node ${nodes.length + 1}: "${name}" is taken`);
    nodes.push({ name, ip: formatIpv4(ip), roles: ["worker"], memory: 1024, cpus: 1 });
  }
  return { ...topology, nodes };
}

/** The topology with Kubernetes as `labbook up --kubernetes` or a lab asks for it (`true`, or what the lab defers) on top of its own settings. */
export function withKubernetesRequest(topology: Topology, request: boolean | KubernetesRequest | undefined): Topology {
  if (!request) return topology;
  const defer = [...new Set([...(topology.kubernetes?.defer ?? []), ...(typeof request === "object" ? (request.defer ?? []) : [])])];
  return { ...topology, kubernetes: { ...topology.kubernetes, ...(defer.length ? { defer } : {}) } };
}
