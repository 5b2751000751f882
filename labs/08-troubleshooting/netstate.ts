// A node's network configuration as comparable text: iptables rules and policies, and routes.
// Break-fix labs take it before they inject a fault and compare it after the student's repair,
// to check that the repair changed nothing else (no flushed table, no ACCEPT-everything rule).
import type { Node } from "labbook";

export interface NetworkState {
  node: string;
  /** "filter FORWARD ACCEPT", "nat KUBE-SERVICES -" (a user chain has no policy). */
  chains: string[];
  /** "nat -A POSTROUTING -s 10.244.1.0/24 ... -j MASQUERADE", as iptables-save prints them. */
  rules: string[];
  /** `ip route` lines of the main table. */
  routes: string[];
}

/** Debugging rules a student may leave behind without harm: they only observe. */
export const OBSERVING_RULE = /-j (TRACE|NFLOG|LOG)\b/;

/**
 * What a comparison ignores on a Kubernetes node: the observing rules, and kube-proxy's per-endpoint chains
 * (KUBE-SEP-<hash of the endpoint>), which kube-proxy rewrites whenever a pod behind a Service is replaced.
 * Check those against the apiserver's endpoints instead.
 */
export const OBSERVING_OR_ENDPOINT_RULE = /-j (TRACE|NFLOG|LOG)\b|KUBE-SEP-/;

/** The node's iptables chains, rules (without counters) and main-table routes. */
export async function networkState(node: Node): Promise<NetworkState> {
  const save = await node.$`iptables-save`;
  const chains: string[] = [];
  const rules: string[] = [];
  let table = "";
  for (const line of save.lines()) {
    if (line.startsWith("*")) table = line.slice(1);
    else if (line.startsWith(":")) chains.push(`${table} ${line.slice(1).replace(/\s*\[\d+:\d+\]$/, "")}`);
    else if (line.startsWith("-A ")) rules.push(`${table} ${line}`);
  }
  const routes = (await node.$`ip route show table main`).lines().map((l) => l.trim()).filter(Boolean);
  return { node: node.name, chains: chains.sort(), rules: rules.sort(), routes: routes.sort() };
}

/** What differs between two sets of states, one line per difference; empty when they agree. */
export function stateChanges(before: readonly NetworkState[], after: readonly NetworkState[], ignoreRule: RegExp = OBSERVING_RULE): string[] {
  const changes: string[] = [];
  for (const old of before) {
    const now = after.find((s) => s.node === old.node);
    if (!now) {
      changes.push(`${old.node}: no state taken`);
      continue;
    }
    const compare = (what: string, a: string[], b: string[]) => {
      for (const item of a) if (!b.includes(item)) changes.push(`${old.node}: ${what} gone: ${item}`);
      for (const item of b) if (!a.includes(item)) changes.push(`${old.node}: ${what} added: ${item}`);
    };
    compare("chain/policy", old.chains.filter((r) => !ignoreRule.test(r)), now.chains.filter((r) => !ignoreRule.test(r)));
    compare("rule", old.rules.filter((r) => !ignoreRule.test(r)), now.rules.filter((r) => !ignoreRule.test(r)));
    compare("route", old.routes, now.routes);
  }
  return changes;
}
