// Real Kubernetes pods to measure between: one pod per node, pinned with nodeName, and the network
// namespace the runtime made for each. iperf3 is not in the pod's image, so the lab runs the node's
// iperf3 inside the pod's netns: a pod's containers all share that netns, so the network path is the pod's.
import { kubectlApply, sh, scaledSeconds } from "labbook";
import type { Node } from "labbook";
import type { Endpoint } from "./measure.js";

/** The label every pod of this lab carries. */
export const POD_LABEL = "lab=calico-vs-flannel";

/** A Pod `iperf-N` of labbook/probe:1 on each node, N from the node's name. */
export function iperfPods(nodes: readonly Node[]): string {
  return nodes.map((node) => `apiVersion: v1
kind: Pod
metadata:
  name: iperf-${node.name.replace(/\D/g, "")}
  labels: { lab: calico-vs-flannel }
spec:
  nodeName: ${node.name}
  terminationGracePeriodSeconds: 0
  containers:
    - name: probe
      image: labbook/probe:1
`).join("---\n");
}

/** A real pod, where it runs, its address, and its network namespace on its node. */
export interface RealPod extends Endpoint {
  name: string;
  ip: string;
  mtu: number;
}

/**
 * Creates (or, with `recreate`, deletes and creates again) the iperf pods on `nodes`, waits until they
 * are Ready, and finds each one's netns: the one of `ip netns list` on its node that holds the pod's IP.
 */
export async function startIperfPods(kubectlNode: Node, nodes: readonly Node[], options: { recreate?: boolean } = {}): Promise<RealPod[]> {
  if (options.recreate) await sh(kubectlNode, `kubectl delete pod -l ${POD_LABEL} --wait=true`);
  await kubectlApply(kubectlNode, iperfPods(nodes), "iperf-pods.yaml");
  await sh(kubectlNode, `kubectl wait --for=condition=Ready pod -l ${POD_LABEL} --timeout=${scaledSeconds(90)} && kubectl get pods -l ${POD_LABEL} -o wide`);
  const pods: RealPod[] = [];
  for (const node of nodes) {
    const name = `iperf-${node.name.replace(/\D/g, "")}`;
    const ip = String(await kubectlNode.$`kubectl get pod ${name} -o jsonpath={.status.podIP}`).trim();
    const found = await sh(node, `for ns in $(ip netns list | cut -d' ' -f1); do ip -n $ns -4 -o addr show | grep -q " inet ${ip}/" && echo $ns; done; true`);
    const netns = found.stdout.trim().split("\n")[0] ?? "";
    if (!netns) throw new Error(`${node.name}: no network namespace holds ${name}'s address ${ip}`);
    const mtu = Number(String(await node.$`ip netns exec ${netns} cat /sys/class/net/eth0/mtu`).trim());
    pods.push({ node, netns, name, ip, mtu });
  }
  return pods;
}
