// kubectl on every VM, as on the embedded cluster's nodes: labs run `kubectl` on whichever node a step is
// about. `kubeadm join` gives a joined node only its kubelet's credentials, so after `up` the runner copies
// the control plane's admin kubeconfig to root's ~/.kube/config on the others (it is root on all of them).
import { LabbookError } from "../../errors.ts";
import { controlPlaneNode } from "../../kubernetes/layout.ts";
import type { SshConnection } from "../../ssh/connection.ts";
import type { Topology } from "../../topology/types.ts";

const ADMIN = "/etc/kubernetes/admin.conf";

/**
 * Copies the admin kubeconfig from the control-plane node to /root/.kube/config on every node. Resolves
 * false when the control plane has none (kubeadm never ran there) and `required` is false; throws otherwise.
 */
export async function shareAdminKubeconfig(topology: Topology, open: (node: string) => Promise<SshConnection>, { required = true } = {}): Promise<boolean> {
  const controlPlane = controlPlaneNode(topology);
  const source = await open(controlPlane.name);
  let config: string;
  try {
    const read = await source.exec(`cat ${ADMIN}`);
    if (read.exitCode !== 0 && !required) return false;
    if (read.exitCode !== 0) throw new LabbookError(`${controlPlane.name} has no ${ADMIN}: did kubeadm init run there? (${read.stderr.trim()})`);
    config = read.stdout;
  } finally {
    source.close();
  }
  await Promise.all(
    topology.nodes.map(async (node) => {
      const connection = await open(node.name);
      try {
        const wrote = await connection.exec("install -d -m 700 /root/.kube && cat > /root/.kube/config && chmod 600 /root/.kube/config", { input: config });
        if (wrote.exitCode !== 0) throw new LabbookError(`${node.name}: cannot write /root/.kube/config: ${wrote.stderr.trim()}`);
      } finally {
        connection.close();
      }
    }),
  );
  return true;
}

/**
 * After a snapshot restore: kubelet restarted on every VM. Each VM's snapshot was taken, and is restored, a moment
 * apart from the others', so a kubelet's TCP connection to the apiserver resumes out of step with the apiserver's
 * side of it, and its requests time out on it for minutes (seen: a node NotReady for 5 minutes after a reset).
 * A restarted kubelet connects afresh; the pods' own clients find their dead connections by HTTP/2's health check.
 */
export async function restartKubelets(topology: Topology, open: (node: string) => Promise<SshConnection>): Promise<void> {
  await Promise.all(
    topology.nodes.map(async (node) => {
      const connection = await open(node.name);
      try {
        const restarted = await connection.exec("systemctl restart kubelet");
        if (restarted.exitCode !== 0) throw new LabbookError(`${node.name}: systemctl restart kubelet failed: ${restarted.stderr.trim()}`);
      } finally {
        connection.close();
      }
    }),
  );
}

/** Kubernetes runs on the VMs, but not every node became Ready, or CoreDNS available, in time. */
export class KubernetesNotReadyError extends LabbookError {}

/** Every node Ready and CoreDNS available, asked on the control plane until `seconds` pass (after `up`, or a reset). */
export async function waitKubernetesReady(topology: Topology, open: (node: string) => Promise<SshConnection>, seconds: number): Promise<void> {
  const controlPlane = controlPlaneNode(topology);
  const connection = await open(controlPlane.name);
  try {
    // A failed call (the apiserver busy, under software emulation) is asked again until the deadline.
    const ready = await connection.exec(`timeout ${seconds} sh -c 'until kubectl wait --for=condition=Ready node --all --timeout=60s && kubectl -n kube-system wait --for=condition=Available deployment/coredns --timeout=60s; do sleep 5; done'`, { timeoutMs: (seconds + 60) * 1000 });
    if (ready.exitCode !== 0) throw new KubernetesNotReadyError(`Kubernetes on the VMs did not come up within ${seconds} s: ${(ready.stdout + ready.stderr).trim().split("\n").slice(-8).join("\n")}\n(kubectl get pods -A on ${controlPlane.name} says why)`);
  } finally {
    connection.close();
  }
}
