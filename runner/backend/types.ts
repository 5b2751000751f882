import type { DeferrableComponent, KubernetesRequest, Topology } from "../topology/types.ts";
import type { SshTarget } from "../ssh/target.ts";

export type { SshTarget };

/**
 * What a backend can honestly do; labs mark steps that need a capability. "machine-root": root in a node
 * is root of its machine (a VM's, or, in a privileged netns cluster, the host's), as GlusterFS needs.
 */
/** `internet`: the stand-in internet (network.internet) answers behind the LAN's gateway. */
export type Capability = "namespaces" | "vm" | "systemd" | "kubernetes" | "machine-root" | "internet";

export interface ClusterDescription {
  name: string;
  backend: string;
  topology: Topology;
  capabilities: Capability[];
  /** Present when Kubernetes runs on the cluster. */
  kubernetes?: { version: string; defer?: DeferrableComponent[] };
}

export interface NodeStatus {
  name: string;
  ip: string;
  /** Process id of the node (netns: its PID 1 as the host sees it); undefined for VMs. */
  pid?: number;
  running: boolean;
}

export interface ClusterStatus {
  name: string;
  backend: string;
  /** "up": every node runs; "degraded": some do; "down": none do (leftovers of a crash). */
  state: "up" | "degraded" | "down" | "starting";
  createdAt: string;
  nodes: NodeStatus[];
  /** Present when the cluster runs Kubernetes. */
  kubernetes?: KubernetesStatus;
}

export interface KubernetesStatus {
  /** The release it runs, e.g. "v1.35.4". */
  version: string;
  /**
   * What the apiserver said to `/readyz` just now: "ready", "not ready" (it answered, but some of its
   * checks fail), or "not answering" (no answer within 2 s). Absent when it was not asked: the cluster
   * is not up yet, or its control-plane node is not running.
   */
  apiserver?: "ready" | "not ready" | "not answering";
  /** Why it is not ready or not answering, and where its log is. */
  detail?: string;
}

export interface DownReport {
  clusters: string[];
  /** Processes that were killed, by pid: the audit trail for "kill only what you own". */
  killed: number[];
}

/** Everything ssh2 needs to open one node's connection, plus how to release the transport. */
export interface UpOptions {
  name: string;
  topology: Topology;
  /** The cluster lives only as long as the process that started it (labbook run, labbook notebook). */
  ephemeral?: boolean;
  onProgress?: (message: string) => void;
  /**
   * Host paths the nodes must not see at all: a grader's output, the instructor's notebook, other
   * students' submissions. The checkout, /home and the host's secrets are always hidden.
   */
  hide?: string[];
  /**
   * Why this cluster's nodes need root of the whole machine (GlusterFS: its bricks' trusted.* xattrs are
   * the machine's root's alone). Without it, root in a node has its powers only in the node's namespaces.
   */
  privileged?: string;
  /**
   * Start Kubernetes on the nodes (the control plane on the control-plane node); ready when every node is Ready and
   * CoreDNS answers. An object also says which parts the lab starts itself (its `defer`), on top of the topology's.
   */
  kubernetes?: boolean | KubernetesRequest;
}

/** One driver per kind of machine (containerlab's shape): namespaces, Vagrant VMs, an ssh inventory. */
export interface Backend {
  readonly name: string;
  /**
   * "fresh": `labbook run` starts a cluster per notebook (namespaces take a fraction of a second).
   * "shared": runs use the cluster `labbook up` started, one notebook at a time (VMs take minutes).
   */
  readonly runsOn: "fresh" | "shared";
  /**
   * How many times slower than a real machine its nodes run a lab's steps (default 1): the labs' timing windows
   * are stretched by it (sdk/time-scale.ts). VMs under software emulation say so.
   */
  timeScale?(): number;
  up(options: UpOptions): Promise<ClusterDescription>;
  down(name: string): Promise<DownReport>;
  /** Every cluster of this backend, including leftovers of crashed runs. */
  downAll(): Promise<DownReport>;
  list(): Promise<ClusterStatus[]>;
  describe(name: string): Promise<ClusterDescription>;
  sshTarget(cluster: ClusterDescription, node: string): Promise<SshTarget>;
  /**
   * Plugs the network namespace of process `pid` into the cluster's LAN as a workstation, and says how
   * to reach the nodes from there: for a sandboxed kernel (kernel/sandbox.ts). Backends without it
   * cannot run sandboxed kernels.
   */
  plugWorkstation?(cluster: string, pid: number): Promise<LanCluster>;
  /**
   * Puts a cluster back as it was when its clean state was saved (`save`: saves it now): for backends whose
   * clusters are not rebuilt per lab (VMs). Resolves with what it did, for the user.
   */
  reset?(name: string, options: { save?: boolean; onProgress?: (message: string) => void }): Promise<string>;
}

/** What a sandboxed kernel gets when it is plugged into a cluster's LAN: the lan backend (lan/driver.ts) reads it. */
export interface LanCluster {
  description: ClusterDescription;
  /** The cluster's client key (OpenSSH private key): root on its own nodes, which a lab has anyway. */
  privateKey: string;
  /** Each node's host key, OpenSSH public form. */
  hostKeys: Record<string, string>;
}
