// Lab helpers: what labs after lab 01 reuse. Lab 01 teaches these commands one by one;
// here they run as one call, and each command is still printed, so the lab shows its work.
import type { Node } from "../cluster/node.ts";
import { sh } from "./show.ts";

export interface ContainerSpec {
  /** The network namespace's name, e.g. "c1". */
  name: string;
  /** The container's address with its prefix, e.g. "172.17.0.2/16". */
  address: string;
  /** The bridge on the node; created on first use with `gateway` as its address. */
  bridge: string;
  /** The bridge's address with its prefix, e.g. "172.17.0.1/16": the container's default gateway. */
  gateway: string;
}

/** A Docker-style container network namespace on `node`: bridge, veth pair, address, default route. */
export async function addContainer(node: Node, spec: ContainerSpec): Promise<void> {
  const { name, address, bridge, gateway } = spec;
  const exists = await node.$({ nothrow: true })`ip link show ${bridge}`;
  if (!exists.ok) {
    await sh(node, `ip link add ${bridge} type bridge`);
    await sh(node, `ip addr add ${gateway} dev ${bridge}`);
    await sh(node, `ip link set ${bridge} up`);
  }
  await sh(node, `ip netns add ${name}`);
  await sh(node, `ip link add veth-${name} type veth peer name eth0 netns ${name}`);
  await sh(node, `ip link set veth-${name} master ${bridge} up`);
  await sh(node, `ip -n ${name} addr add ${address} dev eth0`);
  await sh(node, `ip -n ${name} link set eth0 up`);
  await sh(node, `ip -n ${name} link set lo up`);
  await sh(node, `ip -n ${name} route add default via ${gateway.split("/")[0]}`);
}

/** Runs a command inside a container namespace on `node`. */
export function inContainer(node: Node, container: string, command: string) {
  return node.$({ nothrow: true })`ip netns exec ${container} sh -c ${command}`;
}
