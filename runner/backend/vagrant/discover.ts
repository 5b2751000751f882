// What only a running VM can tell: which of its interfaces carries the cluster's LAN address (Vagrant's
// management NIC comes first, so it is usually eth1), and its host key, pinned for every later connection.
import { LabbookError } from "../../errors.ts";
import { SshConnection } from "../../ssh/connection.ts";
import type { Topology } from "../../topology/types.ts";
import type { SshTarget } from "../types.ts";
import type { SshEndpoint } from "./ssh-config.ts";
import type { VagrantNode } from "./state.ts";

export async function discoverNodes(
  topology: Topology,
  endpoints: Map<string, SshEndpoint>,
  transport: (node: string, endpoint: SshEndpoint) => SshTarget,
): Promise<Record<string, VagrantNode>> {
  const entries = await Promise.all(
    topology.nodes.map(async (node) => {
      const endpoint = endpoints.get(node.name);
      if (!endpoint) throw new LabbookError(`vagrant ssh-config has no machine "${node.name}" (it has: ${[...endpoints.keys()].join(", ")})`);
      let hostKey: Buffer | undefined;
      const target = transport(node.name, endpoint);
      const connection = await SshConnection.open(`vagrant/${node.name}`, {
        ...target,
        config: { ...target.config, hostVerifier: (key: Buffer) => ((hostKey = key), true) },
      });
      try {
        const found = await connection.exec(`ip -o -4 addr show to ${node.ip}/32`);
        const lanInterface = /^\d+:\s+([^\s:@]+)/.exec(found.stdout)?.[1];
        if (!lanInterface) throw new LabbookError(`${node.name} has no interface with ${node.ip}: did the Vagrantfile's private network come up? (ip addr: ${found.stdout.trim() || found.stderr.trim()})`);
        return [node.name, { endpoint, lanInterface, hostKey: hostKey!.toString("base64") }] as const;
      } finally {
        connection.close();
      }
    }),
  );
  return Object.fromEntries(entries);
}
