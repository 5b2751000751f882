// Calling a CNI plugin the way a container runtime does (lab 03): the network config on
// stdin, the call's parameters in CNI_* environment variables, a JSON result on stdout.
import { sh, type Node } from "labbook";

/** Where Debian's containernetworking-plugins puts the reference plugins. */
export const CNI_PATH = "/usr/lib/cni";

export interface CniCall {
  command: "ADD" | "CHECK" | "DEL" | "VERSION";
  /** Path of the network config on the node, e.g. /etc/cni/net.d/10-mynet.conf. */
  config: string;
  containerId: string;
  /** The named network namespace (`ip netns add NAME`); CNI_NETNS is its /var/run/netns path. */
  netns: string;
  ifname?: string;
  /** ADD's result: CHECK needs it, and the runtime adds it to the config as prevResult. */
  prevResult?: unknown;
  /** Return a failed call's error instead of throwing it (to show what CHECK says about damage). */
  nothrow?: boolean;
}

export interface CniOutcome {
  ok: boolean;
  /** The plugin's JSON: the result on success, { code, msg } on failure, {} for a silent DEL. */
  json: Record<string, unknown>;
  /** The command line as a person would type it. */
  shown: string;
}

export class CniError extends Error {}

/** Runs the plugin named by the config's "type", printing the command line first. */
export async function cni(node: Node, call: CniCall): Promise<CniOutcome> {
  const config = (await node.$`cat ${call.config}`).json<Record<string, unknown>>();
  const plugin = `${CNI_PATH}/${String(config.type)}`;
  const env = {
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId,
    CNI_NETNS: `/var/run/netns/${call.netns}`,
    CNI_IFNAME: call.ifname ?? "eth0",
    CNI_PATH,
  };
  const assignments = Object.entries(env).map(([key, value]) => `${key}=${value}`).join(" ");
  const stdin = call.prevResult === undefined ? config : { ...config, prevResult: call.prevResult };
  const shown = `${assignments} ${plugin} < ${call.config}${call.prevResult === undefined ? "" : "  # with ADD's result added as prevResult"}`;
  console.log(`${node.name}# ${shown}`);
  const run = await node.$({ nothrow: true, input: JSON.stringify(stdin) })`env ${Object.entries(env).map(([k, v]) => `${k}=${v}`)} ${plugin}`;
  const text = run.stdout.trim();
  const json = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  if (text) console.log(text);
  if (!run.ok && !call.nothrow) throw new CniError(`${node.name}: CNI ${call.command} failed (exit ${run.exitCode}): ${String(json.msg ?? run.stderr.trim())}`);
  return { ok: run.ok, json, shown };
}

// ---- Kubernetes: the runtime's calls, logged ----

/** Where the logging wrapper writes every call it sees, on each node. */
export const CNI_LOG = "/var/log/cni-calls.log";

/**
 * A CNI plugin of our own, /opt/cni/bin/cni-log: it appends its CNI_* variables and its stdin to CNI_LOG,
 * then runs, with the same environment and stdin, the plugin its config names in "wraps", and returns what
 * that plugin returns.
 */
export const CNI_LOG_PLUGIN = `#!/bin/sh
# cni-log: log how the runtime called us, then hand the same call to the real plugin ("wraps" in the config)
config=$(cat)
{
  echo "--- call"
  env | grep '^CNI_' | sort
  echo "stdin=$config"
} >>${CNI_LOG}
real=$(printf '%s' "$config" | jq -r .wraps)
printf '%s\\n' "$config" | "\${CNI_PATH%%:*}/$real"
`;

/** One call the wrapper logged: the CNI_* variables, CNI_ARGS split into its pairs, and the config on stdin. */
export interface LoggedCall {
  env: Record<string, string>;
  args: Record<string, string>;
  stdin: Record<string, unknown>;
}

/** The calls in a node's CNI_LOG, oldest first. */
export async function loggedCalls(node: Node): Promise<LoggedCall[]> {
  const text = (await node.$({ nothrow: true })`cat ${CNI_LOG}`).stdout;
  return text.split("--- call\n").filter((block) => block.trim()).map((block) => {
    const env: Record<string, string> = {};
    let stdin: Record<string, unknown> = {};
    for (const line of block.split("\n")) {
      if (line.startsWith("stdin=")) stdin = JSON.parse(line.slice(6)) as Record<string, unknown>;
      else if (line.includes("=")) env[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
    }
    const args: Record<string, string> = {};
    for (const pair of (env.CNI_ARGS ?? "").split(";")) if (pair.includes("=")) args[pair.slice(0, pair.indexOf("="))] = pair.slice(pair.indexOf("=") + 1);
    return { env, args, stdin };
  });
}

/** The last logged call with `command` for pod `pod` (K8S_POD_NAME), or undefined. */
export function callFor(calls: LoggedCall[], pod: string, command: "ADD" | "DEL" | "CHECK"): LoggedCall | undefined {
  const matching = calls.filter((call) => call.args.K8S_POD_NAME === pod && call.env.CNI_COMMAND === command);
  return matching[matching.length - 1];
}

/** Prints a logged call as the command line the by-hand cells printed: the variables, the plugin, its stdin. */
export function showCall(node: Node, call: LoggedCall): void {
  const order = ["CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH", "CNI_ARGS"];
  const assignments = order.filter((key) => key in call.env).map((key) => `${key}=${call.env[key]}`).join(" ");
  console.log(`${node.name}: the runtime ran\n  ${assignments} ${call.env.CNI_PATH?.split(":")[0] ?? "?"}/${String(call.stdin.type)}\n  with stdin ${JSON.stringify(call.stdin)}`);
}

/**
 * Installs the wrapper on `node`, shown: the script in /opt/cni/bin, and 00-logged.conflist, a copy of flannel's
 * 10-flannel.conflist whose first plugin is cni-log wrapping flannel. 00- sorts before 10-, so it is the config
 * the runtime loads (containerd watches /etc/cni/net.d and reloads it when a file changes).
 */
export async function installCniLog(node: Node): Promise<void> {
  await node.put(Buffer.from(CNI_LOG_PLUGIN), "/opt/cni/bin/cni-log", 0o755);
  await sh(node, "cat /opt/cni/bin/cni-log");
  await sh(node, `jq '.plugins[0] |= . + {type: "cni-log", wraps: .type}' /etc/cni/net.d/10-flannel.conflist > /etc/cni/net.d/00-logged.conflist`);
  await sh(node, "ls /etc/cni/net.d && cat /etc/cni/net.d/00-logged.conflist");
}
