// The images `kubeadm init` asks for on Vagrant VMs, made here like labbook's other images (images.ts)
// and baked into the box, since the VMs reach no registry. kubeadm names one image per component
// (<repository>/kube-apiserver:<version>, .../etcd:<tag>, ...); here they are one image, labbook/kube-node,
// under every one of those names: the `kube` multi-call binary (it runs as the name it is called by),
// Debian's etcd, flanneld, and iptables with the libraries they load, copied from this Debian machine,
// which is the release the box is built from. One archive holds it, so the box stores the binary once.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TarEntry } from "../host/tar.ts";
import type { KubernetesBuild } from "./build.ts";
import { KUBE_COMPONENTS } from "./build.ts";
import { dockerArchive, sha256, type ImageSpec } from "./image-archive.ts";
import { baseLayer } from "./images.ts";
import { FLANNEL_VERSION, KUBERNETES_VERSION } from "./versions.ts";

/** Where kubeadm's images come from on VMs: `imageRepository` in its ClusterConfiguration. */
export const VM_IMAGE_REPOSITORY = "labbook";
/** Debian's etcd, the one the embedded cluster runs too; kubeadm gives 3.4 the flags 3.4 knows. */
export const VM_ETCD_TAG = "3.4.23-0";
const IMAGE = `${VM_IMAGE_REPOSITORY}/kube-node:${KUBERNETES_VERSION}`;

/** Every name the one image answers to: kubeadm's control-plane images, kube-proxy's, etcd's and flannel's DaemonSet's. */
export function vmImageTags(): string[] {
  return [
    IMAGE,
    ...["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"].map((c) => `${VM_IMAGE_REPOSITORY}/${c}:${KUBERNETES_VERSION}`),
    `${VM_IMAGE_REPOSITORY}/etcd:${VM_ETCD_TAG}`,
    `${VM_IMAGE_REPOSITORY}/flannel:${FLANNEL_VERSION}`,
  ];
}

const IPTABLES_NAMES = ["iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"];
const XTABLES_MODULES = "/usr/lib/x86_64-linux-gnu/xtables";

function file(path: string, source: string, mode = 0o755): TarEntry {
  return { path, type: "file", mode, content: readFileSync(source) };
}

/** The shared libraries `binary` loads, as ldd resolves them on this machine (the loader included). */
function sharedLibraries(binary: string): string[] {
  const out = execFileSync("ldd", [binary], { encoding: "utf8" });
  if (/not a dynamic executable|statically linked/.test(out)) return [];
  return [...out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]!);
}

/**
 * iptables (nft, as Debian's default alternative, and legacy by its own names), etcd and flanneld with
 * their libraries and iptables' extension modules, at the paths they have here.
 */
function hostToolsLayer(build: KubernetesBuild): TarEntry[] {
  const binaries = ["/usr/sbin/xtables-nft-multi", "/usr/sbin/xtables-legacy-multi", "/usr/bin/etcd", build.bin.flanneld];
  const missing = binaries.filter((b) => !existsSync(b));
  if (missing.length > 0) throw new Error(`the VM images need ${missing.join(", ")}: install iptables and etcd-server (infra/packages.txt)`);
  const modules = readdirSync(XTABLES_MODULES).filter((name) => name.endsWith(".so")).map((name) => join(XTABLES_MODULES, name));
  const libraries = new Set([...binaries, ...modules].flatMap(sharedLibraries));
  const entries: TarEntry[] = [
    file("usr/sbin/xtables-nft-multi", binaries[0]!),
    file("usr/sbin/xtables-legacy-multi", binaries[1]!),
    file("usr/local/bin/etcd", binaries[2]!),
    file("usr/local/bin/flanneld", binaries[3]!),
    ...modules.map((module) => file(module.slice(1), module, 0o644)),
    // 0755: the dynamic loader among them must be executable, or every program that needs it fails to exec.
    ...[...libraries].map((library) => file(library.slice(1), realpathSync(library))),
    ...IPTABLES_NAMES.map((name): TarEntry => ({ path: `usr/sbin/${name}`, type: "symlink", mode: 0o777, target: "xtables-nft-multi" })),
    ...IPTABLES_NAMES.map((name): TarEntry => ({ path: `usr/sbin/${name.replace("tables", "tables-legacy")}`, type: "symlink", mode: 0o777, target: "xtables-legacy-multi" })),
  ];
  return entries;
}

function kubeLayer(build: KubernetesBuild): TarEntry[] {
  return [
    file("usr/local/bin/kube", build.bin.kube),
    ...KUBE_COMPONENTS.map((name): TarEntry => ({ path: `usr/local/bin/${name}`, type: "symlink", mode: 0o777, target: "kube" })),
  ];
}

function vmImageSpec(build: KubernetesBuild): ImageSpec {
  const [ref, ...alsoTagged] = vmImageTags();
  return {
    ref: ref!,
    alsoTagged,
    layers: [baseLayer(), hostToolsLayer(build), kubeLayer(build)],
    env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  };
}

/**
 * Writes the VM image's archive to `outDir`/kube-node.tar unless the one there was made from the same
 * build (its stamp holds the build's folder and the archive's size). Returns the archive's path.
 */
export function buildVmImage(build: KubernetesBuild, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const archive = join(outDir, "kube-node.tar");
  const stampFile = `${archive}.stamp`;
  const key = sha256(JSON.stringify({ build: build.dir, tags: vmImageTags(), source: readFileSync(new URL(import.meta.url)).toString() }));
  if (existsSync(archive) && existsSync(stampFile)) {
    const [stampKey, size] = readFileSync(stampFile, "utf8").split(" ");
    if (stampKey === key && Number(size) === statSync(archive).size) return archive;
  }
  const bytes = dockerArchive(vmImageSpec(build));
  writeFileSync(`${archive}.partial`, bytes);
  renameSync(`${archive}.partial`, archive);
  writeFileSync(stampFile, `${key} ${bytes.length}`);
  return archive;
}
