import { getBackend } from "../backend/registry.ts";
import type { Backend, Capability, ClusterDescription, DownReport } from "../backend/types.ts";
import { LabbookError } from "../errors.ts";
import { SshConnection } from "../ssh/connection.ts";
import type { KubernetesRequest, Topology } from "../topology/types.ts";
import { withNodeCount } from "../topology/validate.ts";
import { NodeGroup } from "./group.ts";
import { Node } from "./node.ts";

export { DEFAULT_CLUSTER_NAME } from "../host/state.ts";
import { DEFAULT_CLUSTER_NAME } from "../host/state.ts";

export interface UpOptions {
  /** A backend driver or its name; default netns (or $LABBOOK_BACKEND). */
  backend?: Backend | string;
  name?: string;
  /** A topology, or the path of a topology file; default infra/cluster.yaml. */
  topology?: Topology | string;
  /** How many nodes: the first N of the topology, extended past its end if needed. */
  nodes?: number;
  /** Tie the cluster's life to this process: the next `up` removes it once this process is gone. */
  ephemeral?: boolean;
  onProgress?: (message: string) => void;
  /** Host paths the nodes must not see (see the backend's UpOptions). */
  hide?: string[];
  /** Why the nodes need root of the whole machine (see the backend's UpOptions); default: they do not. */
  privileged?: string;
  /** Start Kubernetes on the nodes too (`labbook up --kubernetes`, a notebook's metadata.labbook.kubernetes). */
  kubernetes?: boolean | KubernetesRequest;
}

/** A running cluster: its nodes, one reused SSH connection each. */
export class Cluster {
  readonly backend: Backend;
  readonly description: ClusterDescription;
  readonly nodes: readonly Node[];
  /** All nodes, for commands that run everywhere: `await cluster.all.$\`hostname\``. */
  readonly all: NodeGroup;
  private readonly connections = new Map<string, Promise<SshConnection>>();
  private closed = false;

  private constructor(backend: Backend, description: ClusterDescription) {
    this.backend = backend;
    this.description = description;
    this.nodes = description.topology.nodes.map((spec) => new Node(spec, () => this.connection(spec.name)));
    this.all = new NodeGroup(this.nodes);
  }

  /** Brings up a fresh cluster and connects to every node. */
  static async up(options: UpOptions = {}): Promise<Cluster> {
    const backend = typeof options.backend === "object" ? options.backend : getBackend(options.backend);
    // Imported here, not at the top: YAML and JSON Schema cost commands that only attach.
    const { loadTopology } = await import("../topology/load.ts");
    let topology = typeof options.topology === "object" ? options.topology : loadTopology(options.topology);
    if (options.nodes !== undefined) topology = withNodeCount(topology, options.nodes);
    const name = options.name ?? DEFAULT_CLUSTER_NAME;
    const description = await backend.up({ name, topology, ephemeral: options.ephemeral, onProgress: options.onProgress, ...(options.hide ? { hide: options.hide } : {}), ...(options.privileged ? { privileged: options.privileged } : {}), ...(options.kubernetes ? { kubernetes: options.kubernetes } : {}) });
    const cluster = new Cluster(backend, description);
    try {
      options.onProgress?.("connecting");
      await cluster.connect();
    } catch (error) {
      await cluster.down().catch(() => {});
      throw error;
    }
    return cluster;
  }

  /** Attaches to a cluster that is already up; nodes connect on first use. */
  static async attach(name = DEFAULT_CLUSTER_NAME, backend: Backend | string = getBackend()): Promise<Cluster> {
    const driver = typeof backend === "object" ? backend : getBackend(backend);
    return new Cluster(driver, await driver.describe(name));
  }

  get name(): string {
    return this.description.name;
  }

  get topology(): Topology {
    return this.description.topology;
  }

  has(capability: Capability): boolean {
    return this.description.capabilities.includes(capability);
  }

  /** Why this cluster lacks `capability`, and how to get it where that is known: for a skipped step's reason. */
  lacks(capability: Capability): string {
    const backend = this.description.backend;
    if (capability === "kubernetes" && backend === "netns") {
      return `cluster "${this.name}" runs no Kubernetes: a notebook asks the netns backend for it in its metadata ("labbook": {"kubernetes": true})`;
    }
    if (capability === "kubernetes" && backend === "vagrant") {
      return `the VMs of cluster "${this.name}" run no Kubernetes: provision them with LABBOOK_KUBERNETES=1`;
    }
    if (capability === "internet" && backend === "vagrant") {
      return `the VMs of cluster "${this.name}" have no stand-in internet: a plain \`vagrant up\` keeps Vagrant's own route out; "labbook up --backend vagrant" gives them one behind the LAN's gateway`;
    }
    if (capability === "internet") return `cluster "${this.name}" has no stand-in internet: its topology sets no network.internet`;
    return `the ${backend} backend does not offer ${capability}`;
  }

  node(name: string): Node {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new LabbookError(`unknown node "${name}" in cluster "${this.name}" (nodes: ${this.nodes.map((n) => n.name).join(", ")})`);
    return node;
  }

  /** A group of named nodes: `await cluster.on("node1", "node2").$\`ip route\``. */
  on(...names: string[]): NodeGroup {
    return new NodeGroup(names.map((name) => this.node(name)));
  }

  /** Opens every node's connection now rather than on first use. */
  async connect(): Promise<void> {
    await Promise.all(this.nodes.map((node) => this.connection(node.name)));
  }

  /** The node's connection, opened once and then shared by every command. */
  connection(name: string): Promise<SshConnection> {
    if (this.closed) return Promise.reject(new LabbookError(`cluster "${this.name}" is closed`));
    let connection = this.connections.get(name);
    if (!connection) {
      const node = this.node(name);
      connection = this.backend.sshTarget(this.description, node.name).then((target) => SshConnection.open(`${this.name}/${node.name}`, target));
      connection.catch(() => this.connections.delete(name)); // a later call may retry
      this.connections.set(name, connection);
    }
    return connection;
  }

  /** Closes the connections; the cluster keeps running. */
  close(): void {
    this.closed = true;
    for (const connection of this.connections.values()) connection.then((c) => c.close(), () => {});
    this.connections.clear();
  }

  /** Closes the connections and destroys the cluster. */
  async down(): Promise<DownReport> {
    this.close();
    return this.backend.down(this.name);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }
}
