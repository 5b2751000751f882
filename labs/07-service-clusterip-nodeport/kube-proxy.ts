// Helpers for labs that write kube-proxy's iptables rules by hand: count which backend
// answered a batch of HTTP requests, read rule counters, and name chains as kube-proxy does.
import { createHash } from "node:crypto";
import { timeScale, type CommandResult, type Node } from "labbook";

export interface TallyOptions {
  /** Send the requests from this container (network namespace) on the node instead of from the node. */
  container?: string;
  /** curl's --max-time for each request, in seconds (default 2). */
  timeout?: number;
  /** Print the command before running it (default true). */
  show?: boolean;
  /**
   * Tally only the lines "<field>: value" of each answer, by value: labbook/probe answers with several
   * lines ("pod: helloworld-…", "pod_ip: …", ...), and field "pod" keeps the pod's name.
   */
  field?: string;
}

export interface Tally {
  /** How many answers each backend gave, keyed by the answer's first line (e.g. a pod's name). */
  answers: Map<string, number>;
  /** Requests that got no answer. */
  failed: number;
  total: number;
  /** The command that was run. */
  command: string;
  /**
   * TCP segments the sender retransmitted during the run (/proc/net/snmp, in its network namespace). A SYN
   * lost before conntrack confirmed its connection meets the nat table again when it is sent again, so a
   * DNAT counter may exceed the answers by at most this many.
   */
  retransmitted: number;
}

/** The sender's count of retransmitted TCP segments: the RetransSegs column of /proc/net/snmp. */
async function retransmittedSegments(node: Node, container: string | undefined): Promise<number> {
  const snmp = container === undefined ? await node.$`cat /proc/net/snmp` : await node.$`ip netns exec ${container} cat /proc/net/snmp`;
  const [names, values] = snmp.lines().filter((line) => line.startsWith("Tcp:")).map((line) => line.split(/\s+/));
  return Number(values?.[names?.indexOf("RetransSegs") ?? -1] ?? 0);
}

/**
 * `count` HTTP GETs of `url`, sent by one curl process on `node` (or in `options.container`):
 * each answer comes back as one line. With an HTTP/1.0 server (Python's http.server) every
 * request is a new TCP connection (and curl asks any other server to close each one), so each one is a new conntrack entry that meets the nat table.
 */
export async function curlTally(node: Node, url: string, count: number, options: TallyOptions = {}): Promise<Tally> {
  // Connection:close: a server that keeps connections alive (labbook/probe) would get them all on one connection.
  // Each request's time limit is stretched on slower nodes (VMs under software emulation), as checks' windows are.
  const seconds = (options.timeout ?? 2) * timeScale();
  const curl = `curl -s --max-time ${seconds} -H Connection:close $(yes ${url} | head -n ${count})`;
  const command = options.container === undefined ? curl : `ip netns exec ${options.container} sh -c '${curl}'`;
  const pick = options.field === undefined ? "" : ` | grep '^${options.field}: '`;
  if (options.show ?? true) console.log(`${node.name}# ${command}${pick} | sort | uniq -c`);
  const retransmittedBefore = await retransmittedSegments(node, options.container);
  const result: CommandResult = await node.run(command, { nothrow: true, timeout: (count * seconds + 10) * 1000 });
  const retransmitted = (await retransmittedSegments(node, options.container)) - retransmittedBefore;
  const answers = new Map<string, number>();
  const prefix = options.field === undefined ? undefined : `${options.field}: `;
  for (const line of result.lines()) {
    if (prefix !== undefined && !line.startsWith(prefix)) continue;
    const name = line.slice(prefix?.length ?? 0).trim();
    if (name) answers.set(name, (answers.get(name) ?? 0) + 1);
  }
  const answered = [...answers.values()].reduce((a, b) => a + b, 0);
  return { answers: new Map([...answers].sort(([a], [b]) => a.localeCompare(b))), failed: count - answered, total: count, command, retransmitted };
}

/** A tally as `uniq -c` would print it. */
export function formatTally(tally: Tally): string {
  const lines = [...tally.answers].map(([name, n]) => `${String(n).padStart(7)} ${name}`);
  if (tally.failed > 0) lines.push(`${String(tally.failed).padStart(7)} (no answer)`);
  return lines.join("\n");
}

export interface RuleCounter {
  packets: number;
  bytes: number;
  /** The rule as iptables-save prints it, without the counters: "-A CHAIN ...". */
  rule: string;
}

/** The rules of `chain` in `table` on `node`, in order, with their counters (from `iptables-save -c`). */
export async function ruleCounters(node: Node, table: string, chain: string): Promise<RuleCounter[]> {
  const saved = await node.$`iptables-save -c -t ${table}`;
  const rules: RuleCounter[] = [];
  for (const line of saved.lines()) {
    const match = /^\[(\d+):(\d+)\] (-A (\S+) .*)$/.exec(line);
    if (match && match[4] === chain) rules.push({ packets: Number(match[1]), bytes: Number(match[2]), rule: match[3]! });
  }
  return rules;
}

/** The DNAT rule of a KUBE-SEP chain on `node`, with its counters; undefined when the chain has none. */
export async function dnatRule(node: Node, sepChain: string): Promise<RuleCounter | undefined> {
  return (await ruleCounters(node, "nat", sepChain)).find((r) => r.rule.includes("-j DNAT"));
}

/** Packets counted by the DNAT rule of a KUBE-SEP chain on `node` (-1 when there is no such rule). */
export async function dnatPackets(node: Node, sepChain: string): Promise<number> {
  return (await dnatRule(node, sepChain))?.packets ?? -1;
}

/** Passes (returns the counts) when `tally` has no failures and each of `pods` answered between `low` and `high` times; throws with the counts otherwise. */
export function evenSplit(tally: Tally, pods: readonly string[], low: number, high: number): string {
  const counts = pods.map((pod) => `${pod}: ${tally.answers.get(pod) ?? 0}`).join(", ");
  if (tally.failed > 0) throw new Error(`${tally.failed} of ${tally.total} requests got no answer (${counts})`);
  const outside = pods.filter((pod) => {
    const n = tally.answers.get(pod) ?? 0;
    return n < low || n > high;
  });
  if (outside.length) throw new Error(`${outside.join(", ")} outside ${low}-${high} of ${tally.total}: ${counts}`);
  return `${counts} (each within ${low}-${high})`;
}

/** RFC 4648 base32 (Go's base32.StdEncoding) without the "=" padding: Node.js has no encoder of its own. */
function base32(bytes: Uint8Array): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/**
 * kube-proxy's chain-name hash (pkg/proxy/iptables/proxier.go): base32(sha256(servicePortName +
 * protocol + endpoint))[:16]. KUBE-SVC-<hash> without an endpoint, KUBE-SEP-<hash> with one
 * ("10.244.2.2:80"). servicePortName is "namespace/name:portname"; protocol is lower case, "tcp".
 */
export function portProtoHash(servicePortName: string, protocol: string, endpoint = ""): string {
  return base32(createHash("sha256").update(servicePortName + protocol + endpoint).digest()).slice(0, 16);
}

/** One jump of a KUBE-SVC chain to an endpoint's KUBE-SEP chain, as kube-proxy wrote it. */
export interface EndpointJump {
  /** The KUBE-SEP chain. */
  target: string;
  /** The probability as iptables prints it ("0.50000000000"); undefined on the last, unconditional jump. */
  probability?: string;
  /** The rule's comment: kube-proxy 1.35 writes "default/helloworld -> 10.244.1.2:80". */
  comment: string;
  /** Where the KUBE-SEP chain's DNAT rule sends the packet ("10.244.1.2:80"); undefined without one. */
  dnat?: string;
  /** The KUBE-SEP chain's rules, in order. */
  sepRules: string[];
}

/** What a node's nat table holds for one service port (from `iptables -t nat -S`), found by its comments. */
export interface ServiceRules {
  /** The KUBE-SERVICES rule that matches the ClusterIP; undefined when there is none. */
  clusterIPRule?: string;
  /** The KUBE-SVC chain that rule jumps to. */
  svc?: string;
  /** The KUBE-SVC chain's rules, in order. */
  svcRules: string[];
  /** The KUBE-NODEPORTS rules of the service port. */
  nodePortRules: string[];
  /** The KUBE-EXT chain the NodePort rules jump to (kube-proxy 1.24 and later), and its rules. */
  ext?: string;
  extRules: string[];
  /** The KUBE-SVC chain's jumps to KUBE-SEP chains, in order. */
  jumps: EndpointJump[];
}

/** The rules kube-proxy wrote on `node` for `servicePortName` ("default/helloworld", or "ns/name:port" for a named port). */
export async function serviceRules(node: Node, servicePortName: string): Promise<ServiceRules> {
  const nat = (await node.$`iptables -t nat -S`).lines();
  const chain = (name: string | undefined) => (name === undefined ? [] : nat.filter((l) => l.startsWith(`-A ${name} `)));
  const target = (rule: string | undefined) => (rule === undefined ? undefined : /-j (\S+)/.exec(rule)?.[1]);
  const clusterIPRule = chain("KUBE-SERVICES").find((l) => l.includes(`--comment "${servicePortName} cluster IP"`));
  const svc = target(clusterIPRule);
  const svcRules = chain(svc);
  const nodePortRules = chain("KUBE-NODEPORTS").filter((l) => l.includes(`--comment "${servicePortName}"`));
  const ext = nodePortRules.map(target).find((t) => t?.startsWith("KUBE-EXT-"));
  const jumps = svcRules.filter((l) => / -j KUBE-SEP-/.test(l)).map((l): EndpointJump => {
    const sep = target(l)!;
    const sepRules = chain(sep);
    const probability = /--probability (\S+)/.exec(l)?.[1];
    const dnat = sepRules.map((r) => /-j DNAT --to-destination (\S+)/.exec(r)?.[1]).find((d) => d !== undefined);
    return { target: sep, comment: /--comment "([^"]*)"/.exec(l)?.[1] ?? "", sepRules, ...(probability === undefined ? {} : { probability }), ...(dnat === undefined ? {} : { dnat }) };
  });
  return { ...(clusterIPRule === undefined ? {} : { clusterIPRule }), ...(svc === undefined ? {} : { svc }), svcRules, nodePortRules, ...(ext === undefined ? {} : { ext }), extRules: chain(ext), jumps };
}

/**
 * The probabilities kube-proxy writes for n endpoints, as iptables prints them back: rule i (from 0) matches
 * with 1/(n-i), written with 10 decimals and stored as a fraction of 2^31, and the last rule has none.
 * n = 3 gives "0.33333333349", "0.50000000000".
 */
export function printedProbabilities(n: number): string[] {
  return Array.from({ length: Math.max(n - 1, 0) }, (_, i) => {
    const written = Number((1 / (n - i)).toFixed(10));
    return (Math.round(written * 2 ** 31) / 2 ** 31).toFixed(11);
  });
}

/** A ready endpoint of a Service, from its EndpointSlices: the pod's IP and name. */
export interface ServiceEndpoint {
  ip: string;
  pod: string;
}

/** The ready endpoints of Service `service` (namespace default), from `kubectl get endpointslices` on `node`, by IP. */
export async function serviceEndpoints(node: Node, service: string): Promise<ServiceEndpoint[]> {
  const template = '{range .items[*].endpoints[*]}{.addresses[0]} {.targetRef.name} {.conditions.ready}{"\\n"}{end}';
  const listed = await node.$`kubectl get endpointslices -l kubernetes.io/service-name=${service} -o jsonpath=${template}`;
  return listed.lines().map((line) => line.trim().split(/\s+/)).filter((f) => f[2] === "true")
    .map(([ip, pod]) => ({ ip: ip!, pod: pod! })).sort((a, b) => a.ip.localeCompare(b.ip, undefined, { numeric: true }));
}
