// What `labbook box build` bakes into the box for Kubernetes on VMs, offline: labbook's own Kubernetes build
// (the one the embedded cluster runs), and a containerd store that already holds every image kubeadm,
// flannel, CoreDNS and the labs ask for. The store is made here, once per input, by the same importer the
// embedded cluster's nodes use (kubernetes/containerd-template.ts), so a VM imports nothing when it boots.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { imagePolicy } from "../../kubernetes/addons.ts";
import { join } from "node:path";
import { buildKubernetes, cacheRoot } from "../../kubernetes/build.ts";
import { buildContainerdTemplate } from "../../kubernetes/containerd-template.ts";
import { sha256 } from "../../kubernetes/image-archive.ts";
import { buildVmImage, vmImageTags } from "../../kubernetes/vm-images.ts";
import { KUBERNETES_VERSION } from "../../kubernetes/versions.ts";

/** Where the box and what goes into it are kept: outside the checkout, so a fresh clone reuses them. */
export function boxCacheDir(): string {
  return join(cacheRoot(), "box");
}

/** The environment infra/box/build.sh reads to bake Kubernetes in (LABBOOK_BOX_KUBE_*). */
export async function boxKubernetesEnv(onProgress: (message: string) => void): Promise<Record<string, string>> {
  const build = await buildKubernetes({ onProgress });
  const dir = join(boxCacheDir(), "kubernetes");
  onProgress("the VM image for kubeadm (labbook/kube-node: the control plane, kube-proxy, etcd, flanneld, iptables)");
  const vmImage = buildVmImage(build, join(dir, "images"));
  const archives = [...build.images.map((image) => image.archive), vmImage];
  // The store depends on the archives: the build's own (its folder is named by its inputs) and the VM image's (its stamp).
  const key = sha256(`${build.dir}\n${readFileSync(`${vmImage}.stamp`, "utf8")}`).slice(0, 16);
  const store = join(dir, `containerd-${key}`);
  if (!existsSync(store)) {
    onProgress(`importing ${archives.length} image archives into the box's containerd store`);
    const partial = `${store}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    await buildContainerdTemplate(archives, partial);
    renameSync(partial, store);
  }
  // The embedded cluster's admission policy: a pod whose image is not in the store is refused when it is
  // created, with the images that exist, instead of an ImagePullBackOff with no registry to pull from.
  const policy = imagePolicy([...build.images.map((image) => image.ref), ...vmImageTags()]);
  const policyFile = join(dir, "image-policy.yaml");
  writeFileSync(policyFile, policy);
  return {
    LABBOOK_BOX_KUBE_BIN: join(build.dir, "bin"),
    LABBOOK_BOX_KUBE_CONTAINERD: store,
    LABBOOK_BOX_KUBE_VERSION: KUBERNETES_VERSION,
    LABBOOK_BOX_KUBE_POLICY: policyFile,
    LABBOOK_BOX_KUBE_KEY: `${build.dir} ${key} ${sha256(policy).slice(0, 16)}`,
  };
}
