// The embedded backend: a cluster is a "world" namespace holding the LAN bridge,
// plus one holder per node (PID, UTS, IPC and cgroup namespaces, tini) in which node-fence.sh starts the
// node's own user, network and mount namespaces, where sshd and everything a lab runs live.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { checkPackages, checkRoot } from "../../host/prerequisites.ts";
import { ClusterNotFoundError, LabbookError } from "../../errors.ts";
import { stdioSocket } from "../../ssh/stdio-socket.ts";
import type { Backend, Capability, ClusterDescription, ClusterStatus, DownReport, SshTarget, UpOptions } from "../types.ts";
import { requireBuild } from "../../kubernetes/build.ts";
import { INOTIFY_PER_NODE, inotifyInstancesOf, waitForInotifyRoom } from "../../kubernetes/inotify.ts";
import { kubernetesLayout } from "../../kubernetes/layout.ts";
import { checkKubernetesVersion } from "../../kubernetes/versions.ts";
import { withKubernetesRequest } from "../../topology/validate.ts";
import { startKubernetes, type NodeRunner } from "../../kubernetes/start.ts";
import { NODE_LIMITS, cgroupName, createNodeCgroups, inCgroups, removeCgroupsSoon } from "../../host/cgroups.ts";
import { fileTail } from "./file-tail.ts";
import type { LanCluster } from "../types.ts";
import { KUBERNETES_KEPT_CAPABILITIES, spawnHolder, asNodeProcess, findNodeNamespaces, namespacesOf, nodeRunning } from "../../host/holder.ts";
import { lanCluster, plugWorkstation } from "./workstation.ts";
import { hostExec } from "./host-exec.ts";
import { startStandInInternet } from "../internet.ts";
import { hostViewArchive, parseHostView } from "./host-view.ts";
import { HOST_VIEW_FILE, checkPrivateDirs, hostKeysOf, privateDirs, writeClusterFiles } from "./node-files.ts";
import { SweepingBackend, leftoverStatus, takeDown } from "../cluster-sweep.ts";
import { MARKER_VARIABLE, isRunning, killOwned, processesMarked, startTimeOf } from "../../host/procfs.ts";
import { parseKey } from "../../ssh/ssh2-parts.ts";
import {
  CLUSTER_NAME_PATTERN,
  clusterDir,
  ensureStateRoot,
  listClusterNames,
  markerFor,
  nodeDir,
  readState,
  sshDir,
  stateRoot,
  writeState,
  type ClusterState,
  type HolderRecord,
} from "../../host/state.ts";

/** Root, the Debian packages and the nodes' mount points: without them `up` could only fail halfway, less clearly. */
function assertPrerequisites(): void {
  const problems = [checkRoot(), ...checkPackages(), checkPrivateDirs()].filter((check) => !check.ok);
  if (problems.length === 0) return;
  const lines = problems.map((p) => `  ${p.name}: ${p.detail}${p.fix ? `\n    fix: ${p.fix}` : ""}`);
  throw new LabbookError(`the embedded cluster cannot start here:\n${lines.join("\n")}\n(labbook doctor checks everything; sudo infra/setup.sh deps installs it)`);
}

/** A claim in progress: `.<name>.<pid>` beside the clusters, renamed into place when complete. */
function claimDir(name: string): string {
  return join(stateRoot(), `.${name}.${process.pid}`);
}

/** Claims whose process died between mkdir and rename. */
function removeAbandonedClaims(): void {
  for (const entry of readdirSync(stateRoot())) {
    const pid = /^\.[a-z0-9-]+\.(\d+)$/.exec(entry)?.[1];
    if (pid && startTimeOf(Number(pid)) === undefined) rmSync(join(stateRoot(), entry), { recursive: true, force: true });
  }
}

/**
 * Why a Kubernetes cluster's nodes are the declared privileged exception: kubelet, containerd and runc manage
 * cgroups, mounts and devices as root, as kind's nodes run them. In a fenced node they would have to run
 * rootless, which on cgroup v1 would not enforce the pods' limits; not tried yet (docs/kubernetes.md, "Why Kubernetes nodes are privileged").
 */
export const KUBERNETES_PRIVILEGED = "kubelet, containerd and runc manage the node's cgroups, mounts and devices as root (as kind runs them); rootless, on cgroup v1, they would not enforce the pods' limits";
/** kube-apiserver, etcd, the controllers, kubelet and containerd together, and the pods beside them. */
const KUBERNETES_NODE_LIMITS = { pids: 8192, memoryBytes: 4096 * 1024 * 1024 };

const NODE_FENCE = fileURLToPath(new URL("./node-fence.sh", import.meta.url));
const NODE_INIT = fileURLToPath(new URL("./node-init.sh", import.meta.url));
export const MOUNT_BATCH = fileURLToPath(new URL("./mount-batch.pl", import.meta.url));
/** mount, umount2 and pivot_root: the kernel's numbers, fixed per architecture (mount-batch.pl). */
export const SYSCALL_NUMBERS: Partial<Record<NodeJS.Architecture, string>> = { x64: "165 166 155", arm64: "40 39 41" };
/** The whiteouts and files every node of the cluster starts its layer with (host-view.ts). */
function hostViewFile(cluster: string): string {
  return join(clusterDir(cluster), "host-view.tar");
}

/** The project checkout: nodes never see it (its SDK, notebooks, keys, a grader's files). */
const CHECKOUT = fileURLToPath(new URL("../../../", import.meta.url));
const LAN_BRIDGE = "lan0";
/** Locally administered; every cluster's LAN is an Ethernet of its own, so they may all share it. */
export const LAN_BRIDGE_MAC = "02:6c:62:00:00:01";

export class NetnsBackend extends SweepingBackend implements Backend {
  readonly name = "netns";
  readonly runsOn = "fresh";

  constructor() {
    super(listClusterNames, () => `${stateRoot()}::`);
  }

  async up({ name, topology: asked, onProgress, ephemeral, hide, privileged, kubernetes: wanted }: UpOptions): Promise<ClusterDescription> {
    if (!CLUSTER_NAME_PATTERN.test(name)) {
      throw new LabbookError(`invalid cluster name "${name}": use lower case letters, digits and '-', at most 24 characters`);
    }
    assertPrerequisites();
    // Before any node exists: a cluster that cannot run Kubernetes fails at once, naming the fix.
    const topology = withKubernetesRequest(asked, wanted);
    const kubernetes = topology.kubernetes !== undefined;
    checkKubernetesVersion(topology);
    const build = kubernetes ? requireBuild() : undefined;
    if (kubernetes) privileged ??= KUBERNETES_PRIVILEGED;
    ensureStateRoot();
    await this.sweepLeftovers();
    const marker = markerFor(name);
    const owner = { pid: process.pid, startTime: startTimeOf(process.pid)! };
    const hidden = [...new Set([CHECKOUT, ...(hide ?? [])].map((p) => resolve(p)))].filter((p) => !p.includes("\n") && p !== "/");
    const state: ClusterState = { name, backend: "netns", phase: "starting", owner, ...(ephemeral ? { ephemeral } : {}), createdAt: new Date().toISOString(), topology, hidden, ...(privileged ? { privileged } : {}), ...(build ? { kubernetes: { version: build.version, build: build.dir } } : {}), nodes: {}, cgroups: {} };
    await this.claimName(state);
    return this.upOrDown(name, async () => {
      if (build) {
        await waitForInotifyRoom({
          nodes: topology.nodes.length,
          reserved: () => this.otherKubernetes(name).reduce((sum, s) => sum + this.inotifyStillToCome(s), 0),
          canWait: () => this.otherKubernetes(name).some((s) => s.ephemeral === true),
          ...(onProgress ? { onProgress } : {}),
        });
      }
      writeClusterFiles(name, topology);
      writeFileSync(hostViewFile(name), hostViewArchive(parseHostView(readFileSync(HOST_VIEW_FILE, "utf8"), HOST_VIEW_FILE), privateDirs(), hidden));
      onProgress?.(`starting ${topology.nodes.length} nodes`);
      const [world, ...nodes] = await Promise.all([
        spawnHolder(marker),
        ...topology.nodes.map((node) => {
          // Limits before the node exists: it is born in its cgroups, which are the root of its cgroup namespace.
          state.cgroups[node.name] = createNodeCgroups(cgroupName(stateRoot(), name, node.name), build ? KUBERNETES_NODE_LIMITS : NODE_LIMITS, build !== undefined);
          return spawnHolder(marker, { cgroups: state.cgroups[node.name], keepCapabilities: keptCapabilities(state) }).then((holder) => [node.name, holder] as const);
        }),
      ]);
      state.world = world as HolderRecord;
      state.nodes = Object.fromEntries(nodes as Array<readonly [string, HolderRecord]>);
      writeState(state);
      await Promise.all(topology.nodes.map((node) => this.fenceNode(state, node.name)));
      writeState(state);
      await this.wireLan(state);
      onProgress?.("configuring nodes");
      await Promise.all([...topology.nodes.map((node) => this.initNode(state, node.name)), this.startInternet(state)]);
      if (build) {
        const phases = await startKubernetes({
          layout: kubernetesLayout(name, topology),
          ...(topology.kubernetes?.kubelet ? { kubelet: topology.kubernetes.kubelet } : {}),
          defer: topology.kubernetes?.defer ?? [],
          build,
          credentialsDir: join(clusterDir(name), "kubernetes"),
          nodes: this.nodeRunner(state),
          ...(onProgress ? { onProgress } : {}),
        });
        state.kubernetes = { ...state.kubernetes!, phases };
      }
      state.phase = "up";
      writeState(state);
      return this.description(state);
    });
  }

  /**
   * What a Kubernetes cluster will hold of inotify instances beyond what it holds now: its whole share while it
   * starts; with deferred parts (a lab starts flanneld and kube-proxy later, and pods follow) the rest of its share.
   */
  private inotifyStillToCome(state: ClusterState): number {
    const share = state.topology.nodes.length * INOTIFY_PER_NODE;
    if (state.phase === "starting") return share;
    if (!state.topology.kubernetes?.defer?.length) return 0;
    const held = inotifyInstancesOf(processesMarked((marker) => marker === markerFor(state.name)).map((p) => p.pid));
    return Math.max(0, share - held);
  }

  /** The other Kubernetes clusters of this state root whose `up` process (or owner) still runs. */
  private otherKubernetes(self: string): ClusterState[] {
    return listClusterNames()
      .filter((n) => n !== self)
      .map((n) => readState(n))
      .filter((s): s is ClusterState => s?.kubernetes !== undefined && isRunning(s.owner));
  }

  /**
   * Removes what crashed runs left: clusters with nothing running, clusters still "starting"
   * whose `up` process is gone (a kill -9 mid-start), and ephemeral clusters (labbook run's)
   * whose process is gone. Degraded clusters stay: someone may be looking at them.
   */
  private async sweepLeftovers(): Promise<void> {
    for (const name of listClusterNames()) {
      const state = readState(name);
      const abandoned = (state?.phase === "starting" || state?.ephemeral === true) && !isRunning(state.owner);
      if (abandoned || (await this.statusOf(name))?.state === "down") await this.down(name);
    }
    removeAbandonedClaims();
  }

  /**
   * Takes the name: the cluster directory appears, atomically, already holding its state,
   * so a concurrent `up` or sweep never sees a cluster without one. A name in use is refused.
   */
  private async claimName(state: ClusterState): Promise<void> {
    const { name } = state;
    const existing = await this.statusOf(name);
    if (existing && existing.state !== "down") {
      throw new LabbookError(`cluster "${name}" is already ${existing.state}; run "labbook down --name ${name}" first, or pick another --name`);
    }
    if (existing || processesMarked((m) => m === markerFor(name)).length > 0) await this.down(name);
    const claim = claimDir(name);
    mkdirSync(claim, { mode: 0o700 });
    writeState(state, claim);
    try {
      renameSync(claim, clusterDir(name)); // fails if another process claimed the name meanwhile
    } catch (error) {
      rmSync(claim, { recursive: true, force: true });
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOTEMPTY" || code === "EEXIST") throw new LabbookError(`cluster "${name}" is being created by another labbook process`);
      throw error;
    }
  }

  private async wireLan(state: ClusterState): Promise<void> {
    const { network, nodes } = state.topology;
    const batch = [
      // A MAC of its own: a bridge otherwise takes its lowest port's, so a workstation plugged in and gone
      // again (a sandboxed kernel) would change the gateway's MAC under the nodes' ARP caches, and their
      // traffic through the gateway would vanish until the entries expired.
      `link add ${LAN_BRIDGE} address ${LAN_BRIDGE_MAC} type bridge`,
      `addr add ${network.gateway}/${network.prefix} dev ${LAN_BRIDGE}`,
      `link set ${LAN_BRIDGE} up`,
      ...nodes.flatMap((node) => [
        `link add v-${node.name} type veth peer name eth0 netns ${namespacesOf(state.nodes[node.name]!)}`,
        `link set v-${node.name} master ${LAN_BRIDGE} up`,
      ]),
    ];
    // The stand-in internet is a local address of the world: reached through the gateway, answered
    // only towards the LAN (the world has no other route), and never forwarded anywhere.
    if (network.internet) batch.push(`addr add ${network.internet}/32 dev lo`);
    // The gateway is an address only: it must never route, so a lab cannot leave its LAN.
    const script = `echo 0 > /proc/sys/net/ipv4/ip_forward && ip link set lo up && ip -batch -`;
    await hostExec("nsenter", ["-t", String(state.world!.pid), "-n", "sh", "-c", script], { input: batch.join("\n") + "\n", step: "wire the LAN" });
  }

  /** The stand-in internet's web server, if the topology has one. */
  private async startInternet(state: ClusterState): Promise<void> {
    const { internet } = state.topology.network;
    if (!internet) return;
    await startStandInInternet({ pid: state.world!.pid, address: internet, stateDir: clusterDir(state.name), marker: markerFor(state.name) });
  }

  /** The node's files (node-fence.sh), then the process whose namespaces are the node's own. */
  private async fenceNode(state: ClusterState, name: string): Promise<void> {
    const holder = state.nodes[name]!;
    await this.inNode(state, name, holder.pid, NODE_FENCE, "fence", {
      NODE_DIR: nodeDir(state.name, name),
      HOSTS_FILE: join(clusterDir(state.name), "hosts"),
      RESOLV_FILE: join(clusterDir(state.name), "resolv.conf"),
      PRIVATE_DIRS: privateDirs().join(" "),
      HOST_VIEW: hostViewFile(state.name),
      MOUNT_BATCH: readFileSync(MOUNT_BATCH, "utf8"),
      SYSCALLS: SYSCALL_NUMBERS[process.arch] ?? "",
      PRIVILEGED: state.privileged ? "1" : "0",
    });
    holder.namespaces = findNodeNamespaces(holder);
  }

  private async initNode(state: ClusterState, name: string): Promise<void> {
    const node = state.topology.nodes.find((n) => n.name === name)!;
    await this.inNode(state, name, namespacesOf(state.nodes[name]!), NODE_INIT, "start", {
      NODE_IP: node.ip,
      PREFIX: String(state.topology.network.prefix),
      GATEWAY: state.topology.network.gateway,
    });
  }

  /** Runs `script` in the namespaces of `pid`; its text, not its path, because the checkout is hidden there. */
  private async inNode(state: ClusterState, name: string, pid: number, script: string, verb: string, env: Record<string, string>): Promise<void> {
    await this.scriptInNode(state, name, pid, readFileSync(script, "utf8"), [basename(script)], `${verb} node ${name}`, env);
  }

  private scriptInNode(state: ClusterState, name: string, pid: number, text: string, args: string[], step: string, env: Record<string, string>, input?: Buffer): Promise<string> {
    return hostExec(...inCgroups(state.cgroups[name] ?? [], "nsenter", ["-t", String(pid), "-a", ...asNodeProcess("sh", ["-c", text, ...args], keptCapabilities(state))]), {
      step,
      env: { NODE_NAME: name, ...env, [MARKER_VARIABLE]: markerFor(state.name) },
      ...(input ? { input } : {}),
    });
  }

  /** Kubernetes' start (kubernetes/start.ts) runs its steps in the nodes through this. */
  private nodeRunner(state: ClusterState): NodeRunner {
    return {
      run: (node, text, args, env, input) =>
        this.scriptInNode(state, node, namespacesOf(state.nodes[node]!), text, ["kubernetes", ...args], `Kubernetes on ${node}${args[0] ? ` (${args[0]})` : ""}`, env, input),
      logTail: (node, file, lines) => fileTail(join(nodeDir(state.name, node), "log", file), lines),
    };
  }

  async down(name: string): Promise<DownReport> {
    const state = readState(name);
    const holders = state ? [...Object.values(state.nodes), state.world].filter((h): h is HolderRecord => h !== undefined) : [];
    const report = await takeDown(name, holders, markerFor(name), clusterDir(name));
    await removeCgroupsSoon(stateRoot(), [name]);
    return report;
  }

  /** With each up Kubernetes cluster's apiserver health, which sweeps and `up` do not need to wait for. */
  override async list(): Promise<ClusterStatus[]> {
    const statuses = await super.list();
    await Promise.all(statuses.filter((s) => s.kubernetes && s.state === "up").map(async (s) => (s.kubernetes = { ...s.kubernetes!, ...(await this.apiserverHealth(readState(s.name)!)) })));
    return statuses;
  }

  /** Does the apiserver answer? kubectl in the control-plane node, entered from the host (no SSH); 2 s at most. */
  private async apiserverHealth(state: ClusterState): Promise<Pick<NonNullable<ClusterStatus["kubernetes"]>, "apiserver" | "detail">> {
    const controlPlane = kubernetesLayout(state.name, state.topology).controlPlane.name;
    const log = join(nodeDir(state.name, controlPlane), "log", "kubernetes", "kube-apiserver.log");
    const probe = "timeout -s KILL 2 kubectl --kubeconfig /etc/kubernetes/admin.conf --request-timeout=1500ms get --raw /readyz 2>&1";
    try {
      await this.scriptInNode(state, controlPlane, namespacesOf(state.nodes[controlPlane]!), probe, [], `ask ${controlPlane}'s apiserver`, {});
      return { apiserver: "ready" };
    } catch (error) {
      const said = (error as Error).message.trim().split("\n").filter(Boolean).at(-1) ?? "";
      if (/exited with 137/.test(said) || said === "") return { apiserver: "not answering", detail: `no answer from ${controlPlane}'s apiserver within 2 s; its log: ${log}` };
      return { apiserver: /Error from server/.test(said) ? "not ready" : "not answering", detail: `${said.replace(/^.*exited with \d+: /, "")}; its log: ${log}` };
    }
  }

  override async downAll(): Promise<DownReport> {
    const report = await super.downAll();
    await removeCgroupsSoon(stateRoot()); // also those of clusters a crash left without any state
    return report;
  }

  protected async statusOf(name: string): Promise<ClusterStatus | undefined> {
    const state = readState(name);
    if (!state) return leftoverStatus(name, this.name, clusterDir(name));
    const nodes = state.topology.nodes.map((node) => {
      const holder = state.nodes[node.name];
      return { name: node.name, ip: node.ip, pid: holder?.pid, running: holder !== undefined && nodeRunning(holder) };
    });
    const running = nodes.filter((n) => n.running).length;
    const worldUp = state.world !== undefined && isRunning(state.world);
    let summary: ClusterStatus["state"] = running === 0 && !worldUp ? "down" : running === nodes.length && worldUp ? "up" : "degraded";
    if (state.phase === "starting" && isRunning(state.owner)) summary = "starting";
    const status: ClusterStatus = { name, backend: this.name, state: summary, createdAt: state.createdAt, nodes };
    if (state.kubernetes) status.kubernetes = { version: state.kubernetes.version };
    return status;
  }

  async describe(name: string): Promise<ClusterDescription> {
    const state = readState(name);
    if (!state) {
      const known = listClusterNames();
      const hint = known.length ? `running clusters: ${known.join(", ")}` : `start one with "labbook up${name === "labbook" ? "" : ` --name ${name}`}"`;
      throw new ClusterNotFoundError(`no cluster named "${name}" (${hint})`);
    }
    if (state.phase !== "up") throw new LabbookError(`cluster "${name}" is still starting, or its start failed; "labbook down --name ${name}" clears it`);
    return this.description(state);
  }

  private description(state: ClusterState): ClusterDescription {
    const capabilities: Capability[] = ["namespaces"];
    if (state.privileged) capabilities.push("machine-root");
    if (state.kubernetes) capabilities.push("kubernetes");
    if (state.topology.network.internet) capabilities.push("internet");
    return { name: state.name, backend: this.name, topology: state.topology, capabilities, ...(state.kubernetes ? { kubernetes: { version: state.kubernetes.version, ...(state.topology.kubernetes?.defer ? { defer: state.topology.kubernetes.defer } : {}) } } : {}) };
  }

  async plugWorkstation(cluster: string, pid: number): Promise<LanCluster> {
    const description = await this.describe(cluster);
    const state = readState(cluster)!;
    await plugWorkstation(state, pid, LAN_BRIDGE);
    return lanCluster(state, description);
  }

  async sshTarget(cluster: ClusterDescription, node: string): Promise<SshTarget> {
    const state = readState(cluster.name);
    const holder = state?.nodes[node];
    if (!state || !holder) throw new LabbookError(`cluster "${cluster.name}" has no node "${node}"`);
    if (!nodeRunning(holder)) throw new LabbookError(`node ${node} of cluster "${cluster.name}" is not running (pid ${namespacesOf(holder)} is gone)`);
    // sshd in inetd mode speaks SSH on its stdin/stdout: no listener, no address, no packet on the host.
    // Every command a node runs comes through this sshd: it joins the node's cgroups, and so do they.
    const sshdArgs = ["/usr/sbin/sshd", "-i", "-f", "/root/.labbook/sshd_config", "-E", "/var/log/sshd-labbook.log"];
    const sshdCommand = inCgroups(state.cgroups[node] ?? [], "nsenter", ["-t", String(namespacesOf(holder)), "-a", ...asNodeProcess(sshdArgs[0]!, sshdArgs.slice(1), keptCapabilities(state))]);
    const sshd = spawn(...sshdCommand, {
      stdio: ["pipe", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin", [MARKER_VARIABLE]: markerFor(cluster.name) },
    });
    let stderr = "";
    sshd.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
    sshd.once("error", () => {}); // surfaced by ssh2 as a closed socket, with `stderr` attached by the caller
    const hostKey = hostPublicKey(cluster.name, node);
    return {
      config: {
        sock: stdioSocket(sshd),
        username: "root",
        privateKey: readFileSync(join(sshDir(cluster.name), "id_ed25519")),
        hostVerifier: (key: Buffer) => key.equals(hostKey),
        readyTimeout: 10_000,
      },
      diagnostics: () => stderr.trim(),
      // Let sshd see EOF and exit on its own: killing nsenter first would orphan sshd to the
      // host's init, which may reap it late and so hold up the node's teardown.
      dispose: () => {
        sshd.stdin.end();
        if (sshd.exitCode === null) setTimeout(() => sshd.exitCode === null && sshd.kill("SIGKILL"), 5000).unref();
      },
    };
  }
}

function keptCapabilities(state: ClusterState): string[] {
  return state.kubernetes ? KUBERNETES_KEPT_CAPABILITIES : [];
}

function hostPublicKey(cluster: string, node: string): Buffer {
  const key = hostKeysOf(cluster)[node];
  const parsed = key ? parseKey(key) : undefined;
  if (!parsed || parsed instanceof Error) throw new Error(`no host key for ${node} in ${sshDir(cluster)}/known_hosts`);
  return parsed.getPublicSSH();
}
