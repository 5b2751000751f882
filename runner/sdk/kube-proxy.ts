// Helpers for labs that write kube-proxy's iptables rules by hand: count which backend
// answered a batch of HTTP requests, and read rule counters.
import type { Node } from "../cluster/node.ts";
import type { CommandResult } from "../cluster/result.ts";

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
  const result: CommandResult = await node.run(command, { nothrow: true, timeout: (count * (options.timeout ?? 2) + 10) * 1000 });
  const answers = new Map<string, number>();
  for (const line of result.lines()) {
    const name = line.trim();
    if (name) answers.set(name, (answers.get(name) ?? 0) + 1);
  }
  const answered = [...answers.values()].reduce((a, b) => a + b, 0);
  return { answers: new Map([...answers].sort(([a], [b]) => a.localeCompare(b))), failed: count - answered, total: count, command };
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
