// Helpers for labs that write kube-proxy's iptables rules by hand: count which backend
// answered a batch of HTTP requests, read rule counters, and name chains as kube-proxy does.
import { createHash } from "node:crypto";
import type { CommandResult, Node } from "labbook";

export interface TallyOptions {
  /** Send the requests from this container (network namespace) on the node instead of from the node. */
  container?: string;
  /** curl's --max-time for each request, in seconds (default 2). */
  timeout?: number;
  /** Print the command before running it (default true). */
  show?: boolean;
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
 * request is a new TCP connection, so each one is a new conntrack entry that meets the nat table.
 */
export async function curlTally(node: Node, url: string, count: number, options: TallyOptions = {}): Promise<Tally> {
  const curl = `curl -s --max-time ${options.timeout ?? 2} $(yes ${url} | head -n ${count})`;
  const command = options.container === undefined ? curl : `ip netns exec ${options.container} sh -c '${curl}'`;
  if (options.show ?? true) console.log(`${node.name}# ${command} | sort | uniq -c`);
  const retransmittedBefore = await retransmittedSegments(node, options.container);
  const result: CommandResult = await node.run(command, { nothrow: true, timeout: (count * (options.timeout ?? 2) + 10) * 1000 });
  const retransmitted = (await retransmittedSegments(node, options.container)) - retransmittedBefore;
  const answers = new Map<string, number>();
  for (const line of result.lines()) {
    const name = line.trim();
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
