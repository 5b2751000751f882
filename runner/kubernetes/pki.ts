// A cluster's certificates and kubeconfigs, made by kubeadm's own phases (as `kubeadm init` makes them),
// into a folder of the cluster's state: nothing of it is written anywhere else on the host.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LabbookError } from "../errors.ts";
import { runCommand } from "./command.ts";
import { APISERVER_PORT, CLUSTER_DOMAIN, POD_CIDR, SERVICE_CIDR, type KubernetesLayout } from "./layout.ts";
import { KUBERNETES_VERSION } from "./versions.ts";

/** Users beyond kubeadm's own, each with a client certificate: kubelet's of every other node, kube-proxy's, flanneld's. */
export const FLANNEL_USER = "labbook:flannel";

export interface ClusterCredentials {
  /** File name (relative to /etc/kubernetes/pki) to contents: the whole PKI, for the control plane. */
  pki: Record<string, Buffer>;
  admin: string;
  /** system:masters, as kubeadm makes it: only to bind admin.conf's group at the start, then kept on the control plane as kubeadm keeps it. */
  superAdmin: string;
  controllerManager: string;
  scheduler: string;
  kubeProxy: string;
  flannel: string;
  /** kubelet.conf per node name. */
  kubelet: Record<string, string>;
}

function kubeadmConfig(layout: KubernetesLayout, pkiDir: string): string {
  const cp = layout.controlPlane;
  return `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint: {advertiseAddress: ${cp.ip}, bindPort: ${APISERVER_PORT}}
nodeRegistration:
  name: ${cp.name}
  # Named, so that kubeadm does not look for a runtime socket on the host.
  criSocket: unix:///run/containerd/containerd.sock
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: ${KUBERNETES_VERSION}
clusterName: ${layout.name}
controlPlaneEndpoint: ${cp.ip}:${APISERVER_PORT}
certificatesDir: ${pkiDir}
# ECDSA keys: a dozen RSA-2048 keys would take a second of the cluster's start.
encryptionAlgorithm: ECDSA-P256
networking: {serviceSubnet: ${SERVICE_CIDR}, podSubnet: ${POD_CIDR}, dnsDomain: ${CLUSTER_DOMAIN}}
apiServer:
  certSANs: [${cp.name}, ${cp.ip}, localhost, 127.0.0.1]
`;
}

/** Runs kubeadm's certs and kubeconfig phases for the cluster in `dir`; returns what the nodes need. */
export async function makeCredentials(kubeadm: string, layout: KubernetesLayout, dir: string): Promise<ClusterCredentials> {
  const pkiDir = join(dir, "pki");
  mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  const config = join(dir, "kubeadm.yaml");
  writeFileSync(config, kubeadmConfig(layout, pkiDir));
  const kubeadmRun = async (args: string[]): Promise<string> => {
    try {
      return await runCommand(kubeadm, ["kubeadm", ...args, "--config", config], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    } catch (error) {
      throw new LabbookError(`making the cluster's certificates: ${(error as Error).message}`);
    }
  };
  // `kube` is a multi-call binary; argv[0] must name the component, so it is run as `kube kubeadm ...`.
  await kubeadmRun(["init", "phase", "certs", "all"]);
  await kubeadmRun(["init", "phase", "kubeconfig", "all", "--kubeconfig-dir", dir]);
  const user = (name: string, org?: string) => kubeadmRun(["kubeconfig", "user", "--client-name", name, ...(org ? ["--org", org] : [])]);
  const others = layout.nodes.filter((n) => n.name !== layout.controlPlane.name);
  const [kubeProxy, flannel, ...kubelets] = await Promise.all([
    user("system:kube-proxy"),
    user(FLANNEL_USER),
    ...others.map((n) => user(`system:node:${n.name}`, "system:nodes")),
  ]);
  const read = (file: string) => readFileSync(join(dir, file), "utf8");
  return {
    pki: Object.fromEntries(filesUnder(pkiDir).map((file) => [file, readFileSync(join(pkiDir, file))])),
    admin: read("admin.conf"),
    superAdmin: read("super-admin.conf"),
    controllerManager: read("controller-manager.conf"),
    scheduler: read("scheduler.conf"),
    kubeProxy: kubeProxy!,
    flannel: flannel!,
    kubelet: { [layout.controlPlane.name]: read("kubelet.conf"), ...Object.fromEntries(others.map((n, i) => [n.name, kubelets[i]!])) },
  };
}

function filesUnder(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(dir, join(prefix, e.name)) : [join(prefix, e.name)]));
}
