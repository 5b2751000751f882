// VMs a user started with plain `vagrant up` in the checkout, with their own libvirt (or VirtualBox): the
// README's first VM path. labbook did not start them and does not own them, so it never takes them down
// (`vagrant destroy` does). It finds them by Vagrant's machine records (.vagrant/machines/<node>/<provider>/id
// next to the Vagrantfile), reads `vagrant ssh-config` once, and keeps what it learnt in
// .labbook/vagrant/plain.json until the machines change: how to reach each VM, its LAN interface and host
// key, and whether it runs Kubernetes. It reaches the VMs as root with labbook's runner key: the Vagrantfile
// authorizes it, and where it could not (a VM provisioned before the key existed), labbook installs it once
// through Vagrant's own login (the box's user, its key, sudo).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { LabbookError } from "../../errors.ts";
import { SshConnection } from "../../ssh/connection.ts";
import { generateEd25519 } from "../../ssh/keys.ts";
import type { Topology } from "../../topology/types.ts";
import type { SshTarget } from "../types.ts";
import { discoverNodes } from "./discover.ts";
import { shareAdminKubeconfig, waitKubernetesReady } from "./kubeconfig.ts";
import { parseSshConfig, type SshEndpoint } from "./ssh-config.ts";
import { CHECKOUT, type VagrantNode } from "./state.ts";

const run = promisify(execFile);

/** Where the Vagrantfile is that the user ran `vagrant up` with: VAGRANT_CWD, as Vagrant itself reads it. */
export function vagrantCwd(): string {
  return process.env.VAGRANT_CWD ?? CHECKOUT;
}

/** `vagrant ARGS` where the user ran `vagrant up`, as they would run it; rejects with its last lines. */
export async function runPlainVagrant(args: string[]): Promise<string> {
  try {
    return (await run("vagrant", args, { cwd: vagrantCwd(), env: { ...process.env, VAGRANT_CWD: vagrantCwd() }, maxBuffer: 1 << 22 })).stdout;
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new LabbookError(`"vagrant ${args.join(" ")}" in ${vagrantCwd()} failed:\n${(stdout + stderr).trim().split("\n").slice(-10).join("\n")}`);
  }
}

/** The runner's key for VMs of a plain `vagrant up`: the one the Vagrantfile authorizes (its LABBOOK_RUNNER_KEY default). */
export function plainRunnerKey(): string {
  return join(vagrantCwd(), ".labbook", "vagrant", "id_ed25519");
}

export interface PlainCluster {
  /** Vagrant's machine ids by node: when they change, the VMs were made again and plain.json is stale. */
  machines: Record<string, string>;
  topology: Topology;
  nodes: Record<string, VagrantNode>;
  kubernetes: boolean;
}

function cacheFile(): string {
  return join(vagrantCwd(), ".labbook", "vagrant", "plain.json");
}

/** The machines Vagrant made from this Vagrantfile: node name to machine id, for every node with one. */
export function plainMachines(): Record<string, string> {
  const dir = join(vagrantCwd(), ".vagrant", "machines");
  if (!existsSync(dir)) return {};
  const machines: Record<string, string> = {};
  for (const node of readdirSync(dir)) {
    for (const provider of ["libvirt", "virtualbox"]) {
      const idFile = join(dir, node, provider, "id");
      if (existsSync(idFile)) machines[node] = readFileSync(idFile, "utf8").trim();
    }
  }
  return machines;
}

function readCache(): PlainCluster | undefined {
  try {
    return JSON.parse(readFileSync(cacheFile(), "utf8")) as PlainCluster;
  } catch {
    return undefined;
  }
}

const sameMachines = (a: Record<string, string>, b: Record<string, string>) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** A direct TCP connection to a VM: the VMs of a plain `vagrant up` are on the user's own libvirt network. */
export function plainTarget(endpoint: SshEndpoint, username: string, privateKey: Buffer, hostKey?: string): SshTarget {
  const known = hostKey === undefined ? undefined : Buffer.from(hostKey, "base64");
  return {
    config: {
      host: endpoint.host,
      port: endpoint.port,
      username,
      privateKey,
      readyTimeout: 20_000,
      ...(known ? { hostVerifier: (key: Buffer) => key.equals(known) } : {}),
    },
    diagnostics: () => "",
    dispose: () => {},
    whenUnreachable: `a VM of "vagrant up" in ${vagrantCwd()} does not answer at ${endpoint.host}:${endpoint.port}: see "vagrant status" there, then "vagrant up" (or "vagrant reload NODE") to start it again`,
  };
}

function ensureRunnerKey(): Buffer {
  const file = plainRunnerKey();
  if (!existsSync(file)) {
    mkdirSync(join(vagrantCwd(), ".labbook", "vagrant"), { recursive: true, mode: 0o700 });
    const pair = generateEd25519("labbook-runner");
    writeFileSync(file, pair.private, { mode: 0o600 });
    writeFileSync(`${file}.pub`, pair.public + "\n");
  }
  return readFileSync(file);
}

/** Root's login with the runner key works on `endpoint`, or is made to work through Vagrant's own user. */
async function authorizeRunner(node: string, endpoint: SshEndpoint, key: Buffer): Promise<void> {
  try {
    (await SshConnection.open(`vagrant/${node}`, plainTarget(endpoint, "root", key))).close();
    return;
  } catch {
    // Not authorized yet: through the box's user below.
  }
  const identity = endpoint.identityFiles.find((file) => existsSync(file));
  if (!identity) throw new LabbookError(`${node}: root does not accept labbook's key, and vagrant ssh-config names no key file that exists (${endpoint.identityFiles.join(", ") || "none"}): run "vagrant provision" so that the Vagrantfile authorizes ${plainRunnerKey()}.pub`);
  const connection = await SshConnection.open(`vagrant/${node}`, plainTarget(endpoint, endpoint.user, readFileSync(identity)));
  try {
    const pub = readFileSync(`${plainRunnerKey()}.pub`, "utf8").trim();
    const added = await connection.exec(`sudo sh -c 'install -d -m 700 /root/.ssh && grep -qxF "$1" /root/.ssh/authorized_keys 2>/dev/null || echo "$1" >> /root/.ssh/authorized_keys' - '${pub}'`);
    if (added.exitCode !== 0) throw new LabbookError(`${node}: cannot authorize labbook's key for root through ${endpoint.user}: ${added.stderr.trim()}`);
  } finally {
    connection.close();
  }
}

/**
 * The plain cluster, if the Vagrantfile's machines exist: from plain.json while the machines are the same,
 * otherwise attached anew (`vagrant ssh-config` once, then each VM once). Undefined when there are none.
 */
export async function attachPlain(onProgress?: (message: string) => void): Promise<PlainCluster | undefined> {
  const machines = plainMachines();
  if (Object.keys(machines).length === 0) return undefined;
  const cached = readCache();
  if (cached && sameMachines(cached.machines, machines)) return cached;
  // Loaded here, as cluster.ts does: the YAML parser and the schema validator are 135 modules that every kernel's
  // SDK would load otherwise, for a path few of them take.
  const { loadTopology } = await import("../../topology/load.ts");
  const topology = loadTopology(process.env.LABBOOK_TOPOLOGY ?? join(vagrantCwd(), "infra", "cluster.yaml"));
  const present = { ...topology, nodes: topology.nodes.filter((n) => machines[n.name] !== undefined) };
  if (present.nodes.length === 0) throw new LabbookError(`the Vagrant machines in ${vagrantCwd()}/.vagrant (${Object.keys(machines).join(", ")}) are none of the topology's nodes`);
  onProgress?.(`attaching to the VMs of "vagrant up" in ${vagrantCwd()}: vagrant ssh-config, once`);
  const text = await runPlainVagrant(["ssh-config"]).catch((error: Error) => {
    throw new LabbookError(`${error.message}\n(are the VMs running? "vagrant status" says)`);
  });
  const endpoints = parseSshConfig(text);
  const key = ensureRunnerKey();
  for (const node of present.nodes) {
    const endpoint = endpoints.get(node.name);
    if (!endpoint) throw new LabbookError(`vagrant ssh-config has no machine "${node.name}": is it running? (vagrant up ${node.name})`);
    await authorizeRunner(node.name, endpoint, key);
  }
  const nodes = await discoverNodes(present, endpoints, (_node, endpoint) => plainTarget(endpoint, "root", key));
  const open = (node: string) => SshConnection.open(`vagrant/${node}`, plainTarget(nodes[node]!.endpoint, "root", key, nodes[node]!.hostKey));
  // Kubernetes runs there when kubeadm left the control plane an admin kubeconfig; every node gets a copy.
  const kubernetes = await shareAdminKubeconfig(present, open, { required: false });
  // `vagrant up` ends when the last node has joined, before it is Ready (flannel, CoreDNS): the first attach
  // waits for that, as `labbook up` does, so that a lab's first kubectl finds the cluster whole. Under software
  // emulation a kubectl right after up was cut off by the busy apiserver (CI, 2026-12-04). Not cached until then.
  if (kubernetes) {
    onProgress?.("waiting for every node to be Ready and CoreDNS available (once, after vagrant up)");
    await waitKubernetesReady(present, open, 900);
  }
  const cluster: PlainCluster = { machines, topology: present, nodes, kubernetes };
  writeFileSync(cacheFile(), JSON.stringify(cluster, null, 2));
  return cluster;
}
