// Ready-made probes for check(): each returns a message saying what it saw when the
// expectation holds, and throws one that shows what it saw instead when it does not.
import type { Node } from "../cluster/node.ts";
import { scaled } from "./time-scale.ts";

function excerpt(text: string, lines = 12): string {
  const all = text.trimEnd().split("\n");
  const shown = all.slice(0, lines).map((l) => `  ${l}`).join("\n");
  return all.length > lines ? `${shown}\n  ... (${all.length - lines} more lines)` : shown || "  (nothing)";
}

export interface ReachOptions {
  /** Connect over TCP to this port instead of pinging. */
  port?: number;
  /** With a port: send an HTTP GET for this path and require a 2xx/3xx status line. */
  http?: string;
  /** Seconds to wait for an answer (default 2), on a real machine: stretched by the time scale, as `within` is. */
  timeout?: number;
}

/** `from` reaches `target`: by ping, by TCP connect, or by an HTTP GET. */
export async function reaches(from: Node, target: string, options: ReachOptions = {}): Promise<string> {
  // A VM under software emulation takes seconds to start bash and answer (a failed run on VMs: 4 attempts of
  // node2's HTTP GET through node1's DNAT, each cut at 2 s, none answered, while the rule counted the packets).
  const wait = scaled((options.timeout ?? 2) * 1000) / 1000;
  if (options.port === undefined) {
    const ping = await from.$({ nothrow: true })`ping -c1 -W${Math.ceil(wait)} ${target}`;
    const rtt = /time=([\d.]+ ms)/.exec(ping.stdout)?.[1];
    if (ping.ok) return `${from.name} reaches ${target} (ping${rtt ? `, ${rtt}` : ""})`;
    throw new Error(`${from.name} cannot reach ${target} by ping:\n${excerpt(ping.stdout + ping.stderr)}`);
  }
  // bash's /dev/tcp needs no curl or netcat inside the node.
  const request = options.http === undefined ? "" : `printf 'GET %s HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n' ${options.http} ${target} >&3; head -n1 <&3`;
  const script = `exec 3<>/dev/tcp/${target}/${options.port}${request ? `; ${request}` : ""}`;
  const result = await from.$({ nothrow: true, timeout: wait * 1000 })`bash -c ${script}`;
  const what = options.http === undefined ? `TCP ${target}:${options.port}` : `http://${target}:${options.port}${options.http}`;
  if (!result.ok) throw new Error(`${from.name} cannot connect to ${what}:\n${excerpt(result.stderr || (result.timedOut ? "timed out" : "connection failed"))}`);
  if (options.http === undefined) return `${from.name} connects to ${what}`;
  const status = result.stdout.trim();
  if (!/^HTTP\/\d(\.\d)? [23]\d\d/.test(status)) throw new Error(`${from.name} got "${status || "no answer"}" from ${what}`);
  return `${from.name} got "${status}" from ${what}`;
}

export interface RouteExpectation {
  via?: string;
  dev?: string;
  table?: string;
}

/** A route to exactly `cidr` exists on `node`, through `via` and/or `dev` when given. */
export async function hasRoute(node: Node, cidr: string, expected: RouteExpectation = {}): Promise<string> {
  const table = expected.table ?? "main";
  const routes = (await node.$`ip -j route show table ${table}`).json<Array<{ dst: string; gateway?: string; dev?: string }>>();
  const wanted = cidr === "0.0.0.0/0" ? "default" : cidr.replace(/\/32$/, "");
  const match = routes.find((r) => r.dst === wanted && (!expected.via || r.gateway === expected.via) && (!expected.dev || r.dev === expected.dev));
  const describe = (r: { dst: string; gateway?: string; dev?: string }) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ""}${r.dev ? ` dev ${r.dev}` : ""}`;
  const want = `${cidr}${expected.via ? ` via ${expected.via}` : ""}${expected.dev ? ` dev ${expected.dev}` : ""}`;
  if (match) return `${node.name} has route ${describe(match)}`;
  throw new Error(`${node.name} has no route ${want} in table ${table}; its routes are:\n${excerpt(routes.map(describe).join("\n"))}`);
}

/** `iptables -t table -S chain` on `node` has a rule containing `pattern` (or matching it). */
export async function hasRule(node: Node, table: string, chain: string, pattern: string | RegExp): Promise<string> {
  const listing = await node.$({ nothrow: true })`iptables -t ${table} -S ${chain}`;
  if (!listing.ok) throw new Error(`${node.name}: cannot list ${table}/${chain}: ${listing.stderr.trim()}`);
  const rule = listing.lines().find((line) => (typeof pattern === "string" ? line.includes(pattern) : pattern.test(line)));
  if (rule) return `${node.name} ${table}/${chain}: ${rule}`;
  throw new Error(`${node.name} has no rule matching ${String(pattern)} in ${table}/${chain}; the chain is:\n${excerpt(listing.stdout)}`);
}

/** The file at `path` on `node` contains `text` (or matches it). */
export async function fileContains(node: Node, path: string, text: string | RegExp): Promise<string> {
  const file = await node.$({ nothrow: true })`cat ${path}`;
  if (!file.ok) throw new Error(`${node.name}: cannot read ${path}: ${file.stderr.trim()}`);
  const found = typeof text === "string" ? file.stdout.includes(text) : text.test(file.stdout);
  if (found) return `${node.name}:${path} contains ${String(text)}`;
  throw new Error(`${node.name}:${path} does not contain ${String(text)}; it reads:\n${excerpt(file.stdout)}`);
}
