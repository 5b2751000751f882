// The backend a sandboxed kernel uses (see kernel/sandbox.ts). It cannot start or stop anything: it
// attaches to the cluster the runner started and described in a file, and reaches each node's sshd over
// TCP on the cluster's LAN, where the runner plugged the kernel in as a workstation.
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { ClusterNotFoundError, LabbookError } from "../../errors.ts";
import type { Backend, ClusterDescription, ClusterStatus, DownReport, LanCluster, SshTarget } from "../types.ts";
import { parseKey } from "../../ssh/ssh2-parts.ts";

/** The file a sandboxed kernel finds its cluster in; the runner writes it (netns/workstation.ts). */
export const LAN_CLUSTER_VARIABLE = "LABBOOK_LAN_CLUSTER";

function readLanCluster(): LanCluster {
  const file = process.env[LAN_CLUSTER_VARIABLE];
  if (!file) throw new LabbookError(`the lan backend needs ${LAN_CLUSTER_VARIABLE}: it runs only inside a kernel sandbox that labbook started`);
  try {
    return JSON.parse(readFileSync(file, "utf8")) as LanCluster;
  } catch (error) {
    throw new ClusterNotFoundError(`no cluster is plugged into this sandbox yet (${file}: ${(error as Error).message})`);
  }
}

const ATTACH_ONLY = "the lan backend only attaches to the cluster its runner started";

export class LanBackend implements Backend {
  readonly name = "lan";
  readonly runsOn = "shared";

  async up(): Promise<ClusterDescription> {
    throw new LabbookError(ATTACH_ONLY);
  }

  async down(): Promise<DownReport> {
    throw new LabbookError(ATTACH_ONLY);
  }

  async downAll(): Promise<DownReport> {
    return { clusters: [], killed: [] };
  }

  async list(): Promise<ClusterStatus[]> {
    const { description } = readLanCluster();
    return [{ name: description.name, backend: this.name, state: "up", createdAt: "", nodes: description.topology.nodes.map((n) => ({ name: n.name, ip: n.ip, running: true })) }];
  }

  async describe(name: string): Promise<ClusterDescription> {
    const { description } = readLanCluster();
    if (description.name !== name) throw new ClusterNotFoundError(`this sandbox is plugged into cluster "${description.name}", not "${name}"`);
    return description;
  }

  async sshTarget(cluster: ClusterDescription, node: string): Promise<SshTarget> {
    const lan = readLanCluster();
    const spec = lan.description.topology.nodes.find((n) => n.name === node);
    const hostKey = lan.hostKeys[node];
    if (!spec || !hostKey) throw new LabbookError(`cluster "${cluster.name}" has no node "${node}"`);
    const parsed = parseKey(hostKey);
    if (parsed instanceof Error) throw new LabbookError(`the host key of ${node} cannot be read: ${parsed.message}`);
    const expected = parsed.getPublicSSH();
    // Nagle's algorithm would hold each small SSH packet back for an ACK: about 45 ms per command, measured.
    const sock = connect({ host: spec.ip, port: 22, noDelay: true });
    sock.once("error", () => {}); // surfaced by ssh2 as a failed connection
    return {
      config: { sock, username: "root", privateKey: lan.privateKey, hostVerifier: (key: Buffer) => key.equals(expected), readyTimeout: 10_000 },
      dispose: () => sock.destroy(),
    };
  }
}
