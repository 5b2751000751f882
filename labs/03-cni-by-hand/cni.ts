// Calling a CNI plugin the way a container runtime does (lab 03): the network config on
// stdin, the call's parameters in CNI_* environment variables, a JSON result on stdout.
import type { Node } from "labbook";

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
