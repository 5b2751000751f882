// `vagrant ssh-config` read once per `up`: how to reach each VM (address, port, user, key), so the
// runner opens one ssh2 connection per node and reuses it, instead of paying `vagrant ssh -c`'s
// 1.7-6 s per command.
import { LabbookError } from "../../errors.ts";

export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  proxyCommand?: string;
}

/** One value: OpenSSH allows it quoted, which Vagrant does for paths with spaces. */
function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/** Parses ssh-config text into endpoints by machine name; a block that cannot be used is an error naming it. */
export function parseSshConfig(text: string): Map<string, SshEndpoint> {
  const blocks = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!match) throw new LabbookError(`vagrant ssh-config, line ${index + 1}: "${line}" is not "Key value"`);
    const key = match[1]!.toLowerCase();
    const value = unquote(match[2]!.trim());
    if (key === "host") {
      current = new Map();
      blocks.set(value, current);
    } else if (current) {
      current.set(key, [...(current.get(key) ?? []), value]);
    } else {
      throw new LabbookError(`vagrant ssh-config, line ${index + 1}: "${match[1]}" comes before any Host`);
    }
  }
  const endpoints = new Map<string, SshEndpoint>();
  for (const [name, options] of blocks) {
    const first = (key: string) => options.get(key)?.[0];
    const host = first("hostname");
    if (!host) throw new LabbookError(`vagrant ssh-config: machine "${name}" has no HostName (is it running? try: vagrant status ${name})`);
    const port = Number(first("port") ?? "22");
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new LabbookError(`vagrant ssh-config: machine "${name}" has port "${first("port")}"`);
    const proxyCommand = first("proxycommand");
    endpoints.set(name, { host, port, user: first("user") ?? "vagrant", identityFiles: options.get("identityfile") ?? [], ...(proxyCommand ? { proxyCommand } : {}) });
  }
  if (endpoints.size === 0) throw new LabbookError("vagrant ssh-config printed no machine: is the cluster up?");
  return endpoints;
}
