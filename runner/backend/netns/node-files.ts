// The files a node is born with: its private dirs, hostname, /etc/hosts, and the
// SSH material (per-node host keys, one client key per cluster).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateEd25519 } from "../../ssh/keys.ts";
import type { Topology } from "../../topology/types.ts";
import { clusterDir, nodeDir, sshDir } from "../../host/state.ts";
import type { CheckResult } from "../../host/prerequisites.ts";

/** infra/node-private-dirs.txt: host dirs each node gets a private copy of (setup creates them). */
export const PRIVATE_DIRS_FILE = fileURLToPath(new URL("../../../infra/node-private-dirs.txt", import.meta.url));

/** infra/node-host-view.txt: what of the host's files a node sees (host-view.ts reads it). */
export const HOST_VIEW_FILE = fileURLToPath(new URL("../../../infra/node-host-view.txt", import.meta.url));

export function privateDirs(text = readFileSync(PRIVATE_DIRS_FILE, "utf8")): string[] {
  return text.split("\n").map((line) => line.replace(/#.*/, "").trim()).filter(Boolean);
}

export interface ClusterKeys {
  clientPrivate: string;
  clientPublic: string;
  hostPublic: Record<string, string>;
}

const SSHD_CONFIG = `# labbook node sshd: keys are per cluster, root logs in by key only.
Port 22
ListenAddress 0.0.0.0
HostKey /root/.labbook/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# The node's /root is a labbook directory on the host, whose owner and modes sshd would reject.
StrictModes no
UseDNS no
# Labs open many channels at once; OpenSSH's default of 10 fails with "Channel open failure".
MaxSessions 128
PrintMotd no
PrintLastLog no
Subsystem sftp internal-sftp
`;

// No DNS server exists on the LAN until a lab starts one; a refused local query fails at once.
const RESOLV_CONF = `# labbook: node names are in /etc/hosts; labs that teach DNS point this at their own server
nameserver 127.0.0.1
options timeout:1 attempts:1
`;

const SSH_CLIENT_CONFIG = `Host *
  IdentityFile ~/.ssh/id_ed25519
  StrictHostKeyChecking yes
  UserKnownHostsFile ~/.ssh/known_hosts
  LogLevel ERROR
`;

// Keep non-interactive shells (every labbook command) from doing any work here.
const BASHRC = `[ -z "$PS1" ] && return
PS1='\\u@\\h:\\w\\$ '
`;

export function writeClusterFiles(cluster: string, topology: Topology): ClusterKeys {
  const dir = clusterDir(cluster);
  const client = generateEd25519(`labbook-${cluster}`);
  mkdirSync(sshDir(cluster), { recursive: true, mode: 0o700 });
  writeFileSync(join(sshDir(cluster), "id_ed25519"), client.private, { mode: 0o600 });
  writeFileSync(join(sshDir(cluster), "id_ed25519.pub"), `${client.public}\n`);

  const hosts = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"];
  hosts.push(...topology.nodes.map((n) => `${n.ip}\t${n.name}`));
  writeFileSync(join(dir, "hosts"), `${hosts.join("\n")}\n`);
  writeFileSync(join(dir, "resolv.conf"), RESOLV_CONF);

  const hostKeys = Object.fromEntries(topology.nodes.map((n) => [n.name, generateEd25519(`${n.name}.${cluster}`)]));
  const knownHosts = topology.nodes.map((n) => `${n.name},${n.ip} ${hostKeys[n.name]!.public}`).join("\n") + "\n";
  writeFileSync(join(sshDir(cluster), "known_hosts"), knownHosts);

  for (const node of topology.nodes) {
    const home = join(nodeDir(cluster, node.name), "root");
    mkdirSync(join(home, ".labbook"), { recursive: true, mode: 0o700 });
    mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
    mkdirSync(join(nodeDir(cluster, node.name), "log"), { recursive: true });
    mkdirSync(join(nodeDir(cluster, node.name), "private"), { recursive: true });
    writeFileSync(join(nodeDir(cluster, node.name), "hostname"), `${node.name}\n`);
    writeFileSync(join(home, ".labbook", "sshd_config"), SSHD_CONFIG);
    writeFileSync(join(home, ".labbook", "ssh_host_ed25519_key"), hostKeys[node.name]!.private, { mode: 0o600 });
    writeFileSync(join(home, ".ssh", "authorized_keys"), `${client.public}\n`, { mode: 0o600 });
    writeFileSync(join(home, ".ssh", "id_ed25519"), client.private, { mode: 0o600 });
    writeFileSync(join(home, ".ssh", "known_hosts"), knownHosts);
    writeFileSync(join(home, ".ssh", "config"), SSH_CLIENT_CONFIG);
    writeFileSync(join(home, ".bashrc"), BASHRC);
  }
  return {
    clientPrivate: client.private,
    clientPublic: client.public,
    hostPublic: Object.fromEntries(Object.entries(hostKeys).map(([name, key]) => [name, key.public])),
  };
}

/** Each node's host key, in OpenSSH public form, from the cluster's known_hosts (written by writeClusterFiles). */
export function hostKeysOf(cluster: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(join(sshDir(cluster), "known_hosts"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => [line.split(" ")[0]!.split(",")[0]!, line.split(" ").slice(1).join(" ")] as const),
  );
}

/** The mount points of each node's private state: missing, a node would write to the host's disk. */
export function checkPrivateDirs(dirs = privateDirs()): CheckResult {
  const missing = dirs.filter((dir) => !existsSync(dir));
  const name = "node-private directories";
  if (missing.length === 0) return { name, ok: true, detail: `all ${dirs.length} mount points exist` };
  return { name, ok: false, detail: `missing ${missing.join(", ")}: nodes would share the host's`, fix: `mkdir -p ${missing.join(" ")}` };
}
