// The Vagrant backend: a cluster of VMs from the same topology as the embedded one. Vagrant, libvirtd
// and every qemu run inside a VM host of their own (vm-host.ts), so that nothing of theirs touches the
// host's network. The runner reads `vagrant ssh-config` once per `up` and then reaches each VM with
// ssh2, one reused connection per node, as root with labbook's key: never `vagrant ssh -c`.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ClusterNotFoundError, LabbookError } from "../../errors.ts";
import { generateEd25519 } from "../../ssh/keys.ts";
import { stdioSocket } from "../../ssh/stdio-socket.ts";
import { SweepingBackend, leftoverStatus, takeDown } from "../cluster-sweep.ts";
import { MARKER_VARIABLE, isRunning, startTimeOf } from "../../host/procfs.ts";
import { CLUSTER_NAME_PATTERN } from "../../host/state.ts";
import type { Backend, Capability, ClusterDescription, ClusterStatus, DownReport, SshTarget, UpOptions } from "../types.ts";
import { assertBoxHasKubernetes, chooseBox, recordBoxAdded, vagrantHome } from "./box.ts";
import { discoverNodes } from "./discover.ts";
import { KubernetesNotReadyError, restartKubelets, shareAdminKubeconfig, waitKubernetesReady } from "./kubeconfig.ts";
import { attachPlain, plainMachines, plainRunnerKey, plainTarget, runPlainVagrant, vagrantCwd, type PlainCluster } from "./plain.ts";
import { DEFAULT_CLUSTER_NAME } from "../../host/state.ts";
import { SshConnection } from "../../ssh/connection.ts";
import { assertVagrantPrerequisites } from "./prerequisites.ts";
import { parseSshConfig } from "./ssh-config.ts";
import { CHECKOUT, clusterDir, ensureClustersDir, listClusterNames, readState, vagrantRoot, writeState, type VagrantClusterState } from "./state.ts";
import { kvmUsable, runVagrant, startVmHost, vmHostDirs } from "./vm-host.ts";
import { checkKubernetesVersion } from "../../kubernetes/versions.ts";
import { startStandInInternet } from "../internet.ts";

/** The runner's key pair: the Vagrantfile authorizes its public half for root on every VM. */
export function runnerKeyFile(): string {
  return join(vagrantRoot(), "id_ed25519");
}

function ensureRunnerKey(): void {
  if (existsSync(runnerKeyFile())) return;
  mkdirSync(vagrantRoot(), { recursive: true, mode: 0o700 });
  const pair = generateEd25519("labbook-runner");
  writeFileSync(runnerKeyFile(), pair.private, { mode: 0o600 });
  writeFileSync(`${runnerKeyFile()}.pub`, pair.public + "\n");
}

/**
 * Vagrant's milestones, without the domain's settings listing and the box-version advice; and, from the
 * Kubernetes provisioner, labbook's own lines and kubeadm's phases (minutes under software emulation).
 */
function worthShowing(line: string): boolean {
  return (
    /^==> [\w-]+: (?!\s+--|No version detected|generating a local|See https|Domain launching)/.test(line) ||
    /^\s+[\w-]+: (labbook: |\[(preflight|certs|kubeconfig|etcd|control-plane|kubelet-start|wait-control-plane|control-plane-check|upload-config|mark-control-plane|bootstrap-token|addons|kubelet-check)\] [A-Z]|Your Kubernetes control-plane|This node has joined|node\/\S+ condition met)/.test(line)
  );
}

/** The snapshot `labbook reset` restores: every VM as `up` left it. */
export const CLEAN_SNAPSHOT = "labbook-clean";

/**
 * Runs a Vagrant command again while another Vagrant process holds a machine's lock ("another process is already
 * executing an action on the machine"): the one before it may still be letting go of it. Up to a minute.
 */
async function whileMachineLocked<T>(command: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await command();
    } catch (error) {
      if (attempt >= 20 || !/another process is already executing an action on the machine/.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
  }
}

function markerFor(name: string): string {
  return `${vagrantRoot()}::${name}`;
}

export class VagrantBackend extends SweepingBackend implements Backend {
  readonly name = "vagrant";
  readonly runsOn = "shared";

  /** Under software emulation (no usable KVM) a step takes several times longer: measured 5-10x here. */
  timeScale(): number {
    return kvmUsable() ? 1 : 4;
  }

  constructor() {
    super(listClusterNames, () => `${vagrantRoot()}::`);
  }

  async up({ name, topology, onProgress, kubernetes: wanted }: UpOptions): Promise<ClusterDescription> {
    if (!CLUSTER_NAME_PATTERN.test(name)) throw new LabbookError(`invalid cluster name "${name}": use lower case letters, digits and '-', at most 24 characters`);
    assertVagrantPrerequisites();
    checkKubernetesVersion(topology);
    ensureClustersDir();
    await this.sweepLeftovers();
    const existing = await this.statusOf(name);
    if (existing && existing.state !== "down") throw new LabbookError(`cluster "${name}" is already ${existing.state} (vagrant); "labbook down --backend vagrant --name ${name}" first`);
    if (existing) await this.down(name);
    const box = chooseBox();
    // `--kubernetes` (or the topology's kubernetes:) provisions it too, as LABBOOK_KUBERNETES=1 does: kubeadm,
    // offline, from the Kubernetes build that `labbook box build` baked into the box (infra/provision/kubernetes.sh).
    const kubernetes = process.env.LABBOOK_KUBERNETES === "1" || wanted === true || topology.kubernetes !== undefined;
    if (kubernetes) assertBoxHasKubernetes(box);
    const dir = clusterDir(name);
    mkdirSync(join(dir, "tmp"), { recursive: true, mode: 0o700 });
    ensureRunnerKey();
    const state: VagrantClusterState = {
      name, backend: "vagrant", phase: "starting", owner: { pid: process.pid, startTime: startTimeOf(process.pid)! },
      createdAt: new Date().toISOString(), topology, box: box.name, kubernetes, nodes: {},
    };
    writeState(state);
    return this.upOrDown(name, async () => {
      // JSON is YAML: the Vagrantfile reads the very topology this cluster was asked for.
      writeFileSync(join(dir, "topology.json"), JSON.stringify({ network: topology.network, nodes: topology.nodes }));
      const hideKvm = !kvmUsable();
      onProgress?.(`starting libvirtd in a namespace of its own (${hideKvm ? "software emulation: no usable KVM here" : "KVM"})`);
      state.host = await startVmHost(markerFor(name), vmHostDirs(dir), hideKvm);
      writeState(state);
      // Behind the LAN's gateway, which is the VM host's side of the LAN (lan-route.sh routes the VMs through it).
      const { internet } = topology.network;
      if (internet) {
        await startStandInInternet({ pid: state.host.pid, address: internet, stateDir: dir, marker: markerFor(name), addAddress: true });
        state.internet = internet;
      }
      const env = this.vagrantEnv(state, hideKvm);
      const vagrant = (args: string[], onLine?: (line: string) => void) => runVagrant({ host: state.host!, args, env, marker: markerFor(name), onLine });
      if (box.addFrom) {
        onProgress?.(`adding the box ${box.name} from ${box.addFrom}`);
        await vagrant(["box", "add", "--force", "--name", box.name, box.addFrom]);
        recordBoxAdded(box);
      }
      onProgress?.(`vagrant up: ${topology.nodes.length} VMs from ${box.name} (minutes under software emulation)`);
      // Minutes under software emulation: each milestone says how far in it came.
      const upStarted = Date.now();
      const since = () => `${Math.round((Date.now() - upStarted) / 1000)} s`;
      await vagrant(["up", "--provider", "libvirt"], (line) => worthShowing(line) && onProgress?.(`[${since()}] vagrant: ${line.trim().replace(/\.+$/, "")}`));
      // Management addresses come from DHCP and change on every boot: read them after each up, once.
      const endpoints = parseSshConfig(await vagrant(["ssh-config"]));
      onProgress?.("reading each VM's LAN interface and host key");
      state.nodes = await discoverNodes(topology, endpoints, (node, endpoint) => this.transport(state, node, endpoint.host, endpoint.port));
      if (kubernetes) await this.readyKubernetes(state, onProgress);
      // `labbook reset` comes back to this: the VMs as they are now, before any lab.
      onProgress?.(`saving the VMs' clean state (vagrant snapshot save ${CLEAN_SNAPSHOT}), for "labbook reset"`);
      await vagrant(["snapshot", "save", "--force", CLEAN_SNAPSHOT]);
      state.phase = "up";
      writeState(state);
      return this.description(state);
    });
  }

  /** kubectl on every VM, then every node Ready and CoreDNS answering, as the embedded cluster promises. */
  private async readyKubernetes(state: VagrantClusterState, onProgress?: (message: string) => void): Promise<void> {
    onProgress?.("Kubernetes: the admin kubeconfig to every VM, then every node Ready and CoreDNS rolled out");
    await shareAdminKubeconfig(state.topology, (node) => this.connect(state, node));
    await waitKubernetesReady(state.topology, (node) => this.connect(state, node), 900);
  }

  private async connect(state: VagrantClusterState, node: string): Promise<SshConnection> {
    return SshConnection.open(`vagrant/${node}`, this.pinnedTarget(state, node));
  }

  /** The transport to `node`, accepting only the host key seen at `up`. */
  private pinnedTarget(state: VagrantClusterState, node: string): SshTarget {
    const record = state.nodes[node];
    if (!state.host || !record) throw new LabbookError(`Vagrant cluster "${state.name}" has no node "${node}"`);
    const target = this.transport(state, node, record.endpoint.host, record.endpoint.port);
    const known = Buffer.from(record.hostKey, "base64");
    const whenUnreachable = `the VM ${node} does not answer (stopped, or hung): "labbook reset --backend vagrant --name ${state.name}" brings every VM back to its clean snapshot, or "labbook down --backend vagrant --name ${state.name}" and "labbook up --backend vagrant" again`;
    return { ...target, config: { ...target.config, hostVerifier: (key: Buffer) => key.equals(known) }, whenUnreachable };
  }

  private vagrantEnv(state: VagrantClusterState, hideKvm: boolean): Record<string, string> {
    const dir = clusterDir(state.name);
    return {
      VAGRANT_CWD: CHECKOUT,
      TMPDIR: join(dir, "tmp"),
      VAGRANT_DOTFILE_PATH: join(dir, "vagrant"),
      VAGRANT_HOME: vagrantHome(),
      VAGRANT_CHECKPOINT_DISABLE: "1",
      VAGRANT_DEFAULT_PROVIDER: "libvirt",
      LABBOOK_TOPOLOGY: join(dir, "topology.json"),
      LABBOOK_BOX: state.box,
      LABBOOK_RUNNER_KEY: `${runnerKeyFile()}.pub`,
      LABBOOK_LIBVIRT_DRIVER: hideKvm ? "qemu" : "kvm",
      LABBOOK_KUBERNETES: state.kubernetes ? "1" : "0",
      LABBOOK_LAN_ROUTE: state.internet ? "1" : "0",
    };
  }

  /** A stream to a VM's sshd: socat inside the VM host's network namespace, where the VMs' networks are. */
  private transport(state: VagrantClusterState, node: string, address: string, port: number): SshTarget {
    const host = state.host!;
    if (!isRunning(host)) throw new LabbookError(`the VM host of node ${node} is gone (pid ${host.pid}): run "labbook down --backend vagrant" and up again`);
    const socat = spawn("nsenter", ["-t", String(host.pid), "-n", "socat", "-", `TCP:${address}:${port},nodelay,connect-timeout=10`], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin", [MARKER_VARIABLE]: markerFor(state.name) },
    });
    let stderr = "";
    socat.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
    socat.once("error", () => {});
    const sock = stdioSocket(socat);
    return {
      config: { sock, username: "root", privateKey: readFileSync(runnerKeyFile()), readyTimeout: 20_000 },
      diagnostics: () => stderr.trim(),
      dispose: () => {
        socat.stdin.end();
        if (socat.exitCode === null) setTimeout(() => socat.exitCode === null && socat.kill("SIGKILL"), 5000).unref();
      },
    };
  }

  /** Clusters whose `up` died halfway, or whose VM host is gone (a reboot, a kill -9 of it). */
  private async sweepLeftovers(): Promise<void> {
    for (const name of listClusterNames()) {
      const state = readState(name);
      const abandoned = state?.phase === "starting" && !isRunning(state.owner);
      if (abandoned || (await this.statusOf(name))?.state === "down") await this.down(name);
    }
  }

  async down(name: string): Promise<DownReport> {
    const state = readState(name);
    if (!state && this.isPlain(name)) {
      throw new LabbookError(`the VMs of "${name}" are those of a plain "vagrant up" in ${vagrantCwd()}: labbook did not start them and leaves them alone; "vagrant destroy -f" there takes them down`);
    }
    // No `vagrant destroy`: every VM is a qemu inside the VM host, and its disk is in the cluster's
    // directory. Killing the host's PID 1 ends them all at once, even when Vagrant itself is stuck.
    return takeDown(name, state?.host ? [state.host] : [], markerFor(name), clusterDir(name));
  }

  protected async statusOf(name: string): Promise<ClusterStatus | undefined> {
    const state = readState(name);
    if (!state) return leftoverStatus(name, this.name, clusterDir(name));
    const hostUp = state.host !== undefined && isRunning(state.host);
    const nodes = state.topology.nodes.map((node) => ({ name: node.name, ip: node.ip, running: hostUp && state.nodes[node.name] !== undefined }));
    let summary: ClusterStatus["state"] = !hostUp ? "down" : nodes.every((n) => n.running) ? "up" : "degraded";
    if (state.phase === "starting") summary = isRunning(state.owner) ? "starting" : "down";
    return { name, backend: this.name, state: summary, createdAt: state.createdAt, nodes };
  }

  /**
   * A clean start between labs: every VM back to the snapshot `labbook-clean` (Vagrant's own snapshots, libvirt's
   * internal qcow2 snapshots with the memory), or, with `save`, that snapshot taken now. `labbook up` takes it at
   * the end of its start; on the VMs of a plain `vagrant up`, `labbook reset --save` takes it.
   */
  async reset(name: string, { save = false, onProgress }: { save?: boolean; onProgress?: (message: string) => void }): Promise<string> {
    const args = save ? ["snapshot", "save", "--force", CLEAN_SNAPSHOT] : ["snapshot", "restore", "--no-provision", CLEAN_SNAPSHOT];
    const started = Date.now();
    const state = readState(name);
    if (!state && this.isPlain(name)) {
      onProgress?.(`vagrant ${args.join(" ")} in ${vagrantCwd()}`);
      await whileMachineLocked(() => runPlainVagrant(args)).catch((error: Error) => {
        throw new LabbookError(save ? error.message : `${error.message}\n(no snapshot "${CLEAN_SNAPSHOT}" yet? take it on clean VMs with "labbook reset --backend vagrant --save")`);
      });
      const description = await this.describe(name);
      if (!save && description.capabilities.includes("kubernetes")) await this.kubernetesAfterRestore(description, onProgress);
    } else {
      const description = await this.describe(name);
      const env = this.vagrantEnv(state!, !kvmUsable());
      onProgress?.(`vagrant ${args.join(" ")} (${description.topology.nodes.length} VMs)`);
      await whileMachineLocked(() => runVagrant({ host: state!.host!, args, env, marker: markerFor(name) }));
      // The VMs resume where the snapshot was taken, and their kubelets' leases may have lapsed meanwhile.
      if (!save && state!.kubernetes) await this.kubernetesAfterRestore(description, onProgress);
    }
    return `${save ? "saved" : "restored"} the snapshot "${CLEAN_SNAPSHOT}" of cluster "${name}" in ${((Date.now() - started) / 1000).toFixed(1)} s`;
  }

  /** The default name, with no cluster of labbook's own by it, means the VMs of a plain `vagrant up`, if there are any. */
  private isPlain(name: string): boolean {
    return name === DEFAULT_CLUSTER_NAME && readState(name) === undefined && Object.keys(plainMachines()).length > 0;
  }

  private plainDescription(name: string, plain: PlainCluster): ClusterDescription {
    const capabilities: Capability[] = ["vm", "systemd", "machine-root", ...(plain.kubernetes ? (["kubernetes"] as const) : [])];
    const nodes = plain.topology.nodes.map((node) => ({ ...node, lanInterface: plain.nodes[node.name]?.lanInterface ?? "eth1" }));
    return { name, backend: this.name, topology: { ...plain.topology, nodes }, capabilities };
  }

  override async list(): Promise<ClusterStatus[]> {
    const managed = await super.list();
    if (!this.isPlain(DEFAULT_CLUSTER_NAME)) return managed;
    // VMs that do not answer show as not running; Kubernetes not coming up on them is an error of its own.
    const plain = await attachPlain().catch((error: unknown) => {
      if (error instanceof KubernetesNotReadyError) throw error;
      return undefined;
    });
    const topology = plain?.topology ?? { nodes: Object.keys(plainMachines()).map((name) => ({ name, ip: "?" })) };
    const nodes = topology.nodes.map((node) => ({ name: node.name, ip: node.ip, running: plain?.nodes[node.name] !== undefined }));
    return [...managed, { name: DEFAULT_CLUSTER_NAME, backend: this.name, state: nodes.every((n) => n.running) ? "up" : nodes.some((n) => n.running) ? "degraded" : "down", createdAt: "", nodes }];
  }

  async describe(name: string): Promise<ClusterDescription> {
    const state = readState(name);
    if (!state && this.isPlain(name)) return this.plainDescription(name, (await attachPlain())!);
    if (!state) throw new ClusterNotFoundError(`no Vagrant cluster named "${name}" (start one with "labbook up --backend vagrant${name === "labbook" ? "" : ` --name ${name}`}")`);
    if (state.phase !== "up") throw new LabbookError(`Vagrant cluster "${name}" is still starting, or its start failed; "labbook down --backend vagrant --name ${name}" clears it`);
    if (!state.host || !isRunning(state.host)) throw new LabbookError(`Vagrant cluster "${name}" is down: its VM host (pid ${state.host?.pid}) is gone; "labbook down --backend vagrant --name ${name}" clears it`);
    return this.description(state);
  }

  private description(state: VagrantClusterState): ClusterDescription {
    const capabilities: Capability[] = ["vm", "systemd", "machine-root", ...(state.kubernetes ? (["kubernetes"] as const) : []), ...(state.internet ? (["internet"] as const) : [])];
    const nodes = state.topology.nodes.map((node) => ({ ...node, lanInterface: state.nodes[node.name]?.lanInterface ?? "eth1" }));
    return { name: state.name, backend: this.name, topology: { ...state.topology, nodes }, capabilities };
  }

  /** Kubernetes on VMs just restored: kubelets connect afresh, then every node Ready and CoreDNS available. */
  private async kubernetesAfterRestore(cluster: ClusterDescription, onProgress?: (message: string) => void): Promise<void> {
    // A VM just resumed may not answer for some seconds (seen: EHOSTUNREACH, its ARP entry not back yet).
    const open = async (node: string): Promise<SshConnection> => {
      const deadline = Date.now() + 90_000;
      for (;;) {
        try {
          return await this.open(cluster, node);
        } catch (error) {
          if (!(error instanceof LabbookError) || Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 2000));
        }
      }
    };
    onProgress?.("restarting kubelet on every VM, then waiting for every node to be Ready");
    await restartKubelets(cluster.topology, open);
    await waitKubernetesReady(cluster.topology, open, 900);
  }

  private async open(cluster: ClusterDescription, node: string): Promise<SshConnection> {
    return SshConnection.open(`vagrant/${node}`, await this.sshTarget(cluster, node));
  }

  async sshTarget(cluster: ClusterDescription, node: string): Promise<SshTarget> {
    const state = readState(cluster.name);
    if (!state && this.isPlain(cluster.name)) {
      const record = (await attachPlain())?.nodes[node];
      if (!record) throw new LabbookError(`the VMs of "vagrant up" in ${vagrantCwd()} have no node "${node}"`);
      return plainTarget(record.endpoint, "root", readFileSync(plainRunnerKey()), record.hostKey);
    }
    if (!state) throw new LabbookError(`Vagrant cluster "${cluster.name}" has no node "${node}"`);
    return this.pinnedTarget(state, node);
  }
}

