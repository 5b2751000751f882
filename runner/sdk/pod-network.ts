// The pod layout the Flannel and Calico labs (05, 06) share, so one cluster can switch between
// them: node N holds 10.244.N.0/24 on a bridge cni0 (10.244.N.1), with one pod netns "pod" at 10.244.N.2.
import type { Node } from "../cluster/node.ts";
import { addContainer } from "./containers.ts";

/** The pod network all nodes' blocks come from. */
export const POD_NETWORK = "10.244.0.0/16";

/** node1 -> 1: the N of the node's pod subnet 10.244.N.0/24. */
export function nodeNumber(node: Node): number {
  const digits = /(\d+)$/.exec(node.name)?.[1];
  return digits === undefined ? Number(node.ip.split(".")[3]) : Number(digits);
}

/** The node's pod subnet: 10.244.N.0/24. */
export function podSubnet(node: Node): string {
  return `10.244.${nodeNumber(node)}.0/24`;
}

/** The address of the node's pod "pod": 10.244.N.2. */
export function podAddress(node: Node): string {
  return `10.244.${nodeNumber(node)}.2`;
}

/** Creates the pod netns "pod" at 10.244.N.2/24 on cni0 (10.244.N.1) unless it exists. Prints each command. */
export async function ensurePod(node: Node): Promise<void> {
  if ((await node.$({ nothrow: true })`ip netns exec pod true`).ok) return;
  const n = nodeNumber(node);
  await addContainer(node, { name: "pod", address: `10.244.${n}.2/24`, bridge: "cni0", gateway: `10.244.${n}.1/24` });
}
