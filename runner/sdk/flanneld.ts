// The real flanneld (built by labbook with Kubernetes), run by a lab against the lab's own etcd
// (startEtcd), with the etcd subnet manager the lesson describes. A lab whose Kubernetes cluster
// defers its own flanneld (--kube-subnet-mgr, `kubernetes: { defer: ["flanneld"] }`) starts these
// instead, from a cell, one per node.
import type { Cluster } from "../cluster/cluster.ts";
import type { Node } from "../cluster/node.ts";
import { etcdNode, FLANNEL_PREFIX } from "./flannel.ts";
import { sh } from "./show.ts";
import { scaledSeconds } from "./time-scale.ts";

const PID = "/run/flannel/flanneld.pid";
const LOG = "/var/log/flanneld-etcd.log";

export interface FlanneldOptions {
  /**
   * `--ip-masq`, as kube-flannel runs it: flanneld masquerades what leaves the pod network and writes
   * FLANNEL_IPMASQ=true, so flannel's CNI plugin tells the bridge plugin not to masquerade (which it would do
   * for everything outside the node's /24, other nodes' pods included). Default false, the lesson's command.
   */
  ipMasq?: boolean;
}

/** flanneld's command line on `node`: the etcd subnet manager (no --kube-subnet-mgr), on the node's LAN interface. */
export function flanneldCommand(cluster: Cluster, node: Node, options: FlanneldOptions = {}): string {
  return `flanneld --etcd-endpoints=http://${etcdNode(cluster).ip}:2379 --etcd-prefix=${FLANNEL_PREFIX} --iface=${node.lanInterface}${options.ipMasq ? " --ip-masq" : ""}`;
}

/**
 * Starts flanneld on `node`, detached, logging to /var/log/flanneld-etcd.log, and waits (20 s, by the time scale)
 * until it has written /run/flannel/subnet.env anew: by then it holds its lease and has set up its
 * backend. The old subnet.env stays until then: flanneld reads FLANNEL_SUBNET from it, and asks for that
 * subnet again.
 */
export async function startFlanneld(cluster: Cluster, node: Node, options: FlanneldOptions = {}): Promise<void> {
  await sh(node, `mkdir -p /run/flannel && touch /run/flannel/start.mark && setsid -f sh -c 'echo $$ > ${PID}; exec ${flanneldCommand(cluster, node, options)}' >> ${LOG} 2>&1`);
  // flanneld's start took over 20 s on a VM under software emulation (lab 06 in the full run on VMs, 2026-12-04).
  const limit = scaledSeconds(20);
  const wrote = await node.run(`timeout ${limit} sh -c 'until [ /run/flannel/subnet.env -nt /run/flannel/start.mark ]; do sleep 0.2; done' && cat /run/flannel/subnet.env`, { nothrow: true });
  if (!wrote.ok) {
    const log = (await node.run(`tail -n 8 ${LOG}`, { nothrow: true })).stdout.trim();
    throw new Error(`${node.name}: flanneld wrote no /run/flannel/subnet.env within ${limit}; the end of ${LOG}:\n${log}`);
  }
  console.log(wrote.stdout.trim());
}

/** Stops the flanneld startFlanneld started on `node`, if it runs, and waits until it is gone. Its lease stays in etcd. */
export async function stopFlanneld(node: Node): Promise<void> {
  const pid = (await node.run(`cat ${PID}`, { nothrow: true })).stdout.trim();
  if (!pid || !(await node.run(`kill -0 ${pid}`, { nothrow: true })).ok) return;
  await sh(node, `kill ${pid} && timeout ${scaledSeconds(10)} sh -c 'while kill -0 ${pid} 2>/dev/null; do sleep 0.1; done'; rm -f ${PID}`);
}

/** The lines of flanneld's log on `node` that say which lease it took and what it programmed. */
export async function flanneldLog(node: Node, pattern = "Found lease|Allocated lease|Wrote subnet|Running backend|to renew lease"): Promise<string> {
  return (await node.run(`grep -E '${pattern}' ${LOG} | tail -n 5`, { nothrow: true })).stdout.trim();
}
