// What `labbook doctor` checks. Each probe is real: kernel features are tried by
// creating the device inside a throwaway network namespace, never in the host's.
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { checkPrivateDirs } from "../backend/netns/node-files.ts";
import { stateRoot } from "../host/state.ts";
import { NODE_LIMITS, limitSupport } from "../host/cgroups.ts";
import { kvmUsable } from "../backend/vagrant/vm-host.ts";
import { LabbookError } from "../errors.ts";
import { cacheRoot, currentBuild, goVersion, type KubernetesBuild } from "../kubernetes/build.ts";
import { KUBERNETES_VERSION, MINIMUM_GO } from "../kubernetes/versions.ts";
import { JUPYTER_PACKAGES_FILE, VAGRANT_PACKAGES_FILE } from "../host/packages.ts";
import { chooseFrontend } from "../jupyter/frontend.ts";
import { checkPackages, checkRoot, type CheckResult } from "../host/prerequisites.ts";

export { checkPackages, checkRoot, type CheckResult };

const KERNEL_FEATURES: Array<{ name: string; script: string; hint: string }> = [
  { name: "veth", script: "ip link add lbd0 type veth peer name lbd1", hint: "modprobe veth" },
  { name: "bridge", script: "ip link add lbd0 type bridge", hint: "modprobe bridge" },
  { name: "vxlan", script: "ip link add lbd0 type vxlan id 1 dstport 8472 local 127.0.0.1", hint: "modprobe vxlan" },
  { name: "macvlan", script: "ip link add lbd0 type veth peer name lbd1 && ip link add lbd2 link lbd0 type macvlan mode bridge", hint: "modprobe macvlan" },
  { name: "tun", script: "ip tuntap add lbd0 mode tun", hint: "modprobe tun" },
  { name: "iptables (nat, filter, raw)", script: "iptables -t nat -S >/dev/null && iptables -t filter -S >/dev/null && iptables -t raw -S >/dev/null", hint: "modprobe nf_tables iptable_nat" },
];

function run(command: string, args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 10_000 });
  return { ok: result.status === 0, output: `${result.stderr ?? ""}${result.stdout ?? ""}`.trim() || (result.error?.message ?? "") };
}

/** Nodes need all of these; the user namespace is the fence around root in a node (netns/node-fence.sh). */
export function checkNamespaces(): CheckResult {
  const name = "namespaces (user, net, mount, uts, ipc, pid)";
  const probe = run("unshare", ["--net", "--mount", "--uts", "--ipc", "--pid", "--fork", "--propagation", "private", "unshare", "--user", "--net", "--mount", "true"]);
  return probe.ok
    ? { name, ok: true, detail: "unshare works" }
    : { name, ok: false, detail: probe.output || "unshare failed", fix: "run as root on a Linux host (not inside an unprivileged container), with user.max_user_namespaces above 0" };
}

export function checkKernelFeatures(): CheckResult[] {
  return KERNEL_FEATURES.map(({ name, script, hint }) => {
    const probe = run("unshare", ["--net", "sh", "-c", script]);
    return probe.ok ? { name: `kernel: ${name}`, ok: true, detail: "works" } : { name: `kernel: ${name}`, ok: false, detail: probe.output, fix: hint };
  });
}

export function checkFuse(): CheckResult {
  const ok = existsSync("/dev/fuse");
  return { name: "kernel: FUSE", ok, detail: ok ? "/dev/fuse present" : "no /dev/fuse: the GlusterFS lab cannot mount", fix: ok ? undefined : "modprobe fuse", warning: !ok };
}

/**
 * Notebooks load the ESM SDK through require(): unflagged from Node 20.19 and 22.12. The kernel needs
 * module.registerHooks: 22.15 on.
 * Before 24.11.1, tsx runs its hooks on a loader thread, which deadlocked now and then.
 */
export function checkNode(): CheckResult {
  const [major = 0, minor = 0, patch = 0] = process.versions.node.split(".").map(Number);
  const requiresEsm = major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19);
  const inThreadHooks = major > 24 || (major === 24 && (minor > 11 || (minor === 11 && patch >= 1)));
  const fix = "sudo infra/setup.sh deps (installs the pinned Node.js into .labbook/node)";
  if (!requiresEsm) return { name: "Node.js", ok: false, detail: `${process.version} cannot require() ES modules, which notebooks need`, fix };
  // The kernel's launcher fixes tslab's converter as it loads, through module.registerHooks (22.15 and 23.5 on).
  if (typeof (createRequire(import.meta.url)("node:module") as { registerHooks?: unknown }).registerHooks !== "function") {
    return { name: "Node.js", ok: false, detail: `${process.version} has no module.registerHooks, which labbook's kernel needs (Node.js 22.15 or later)`, fix };
  }
  if (!inThreadHooks) return { name: "Node.js", ok: false, warning: true, detail: `${process.version} works, but tsx's loader thread can deadlock before 24.11.1`, fix };
  return { name: "Node.js", ok: true, detail: process.version };
}

export function checkNpmDependencies(): CheckResult {
  const require = createRequire(import.meta.url);
  const missing = ["ssh2", "zx/core", "yaml", "ajv"].filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
  return missing.length === 0
    ? { name: "npm dependencies", ok: true, detail: "installed" }
    : { name: "npm dependencies", ok: false, detail: `missing ${missing.join(", ")}`, fix: "npm ci" };
}

export function checkStateDir(): CheckResult {
  const root = stateRoot();
  const parent = existsSync(root) ? root : root.replace(/\/[^/]+$/, "") || "/";
  try {
    accessSync(parent, constants.W_OK);
    return { name: "state directory", ok: true, detail: root };
  } catch {
    return { name: "state directory", ok: false, detail: `${parent} is not writable`, fix: `set LABBOOK_STATE_DIR to a writable directory` };
  }
}

/** Per-node limits (cgroups): without them, one node's fork bomb or memory hog is the whole machine's. */
export function checkNodeLimits(): CheckResult {
  const { controllers, problem } = limitSupport();
  const limits = `${NODE_LIMITS.pids} tasks, ${NODE_LIMITS.memoryBytes / 1024 / 1024} MB, no block devices`;
  if (!problem) return { name: "node limits", ok: true, detail: `${limits} per node (${controllers.join(", ")})` };
  return { name: "node limits", ok: false, warning: true, detail: `${problem}; nodes run without ${controllers.length ? "some of " : ""}their limits (${limits}), so one node's fork bomb or memory hog can slow or stall every cluster on this machine`, fix: "mount cgroup v1 pids, memory and devices hierarchies, or delegate pids and memory to labbook's cgroup (systemd-run --scope -p Delegate=yes labbook ...)" };
}

/** The Vagrant backend's speed: hardware virtualization, or software emulation (minutes per `up`). */
export function checkVirtualization(): CheckResult {
  return kvmUsable()
    ? { name: "VM acceleration", ok: true, detail: "KVM: the Vagrant backend's VMs run at native speed" }
    : { name: "VM acceleration", ok: false, warning: true, detail: "no usable KVM (no vmx/svm CPU flag, or no /dev/kvm): the Vagrant backend's VMs run under software emulation, about 3.5 minutes per `up` of 2 VMs" };
}

/** What `labbook notebook` opens: JupyterLab 4 from PyPI in .labbook/venv, or the classic fallback (a warning). */
export function checkJupyterLab(): CheckResult {
  const frontend = chooseFrontend();
  if (frontend?.name === "JupyterLab") return { name: "JupyterLab", ok: true, detail: `${frontend.executable}: labbook notebook opens JupyterLab 4` };
  return {
    name: "JupyterLab",
    ok: false,
    warning: true,
    detail: `not installed in .labbook/venv: labbook notebook ${frontend ? "falls back to Debian's classic Notebook" : "cannot start"}`,
    fix: "sudo infra/setup.sh labs (where PyPI is reachable): it installs infra/requirements.txt into .labbook/venv",
  };
}

export function runAllChecks(): CheckResult[] {
  const root = checkRoot();
  const base = [root, checkNode(), checkNpmDependencies(), ...checkPackages(), checkPrivateDirs(), ...checkPackages(JUPYTER_PACKAGES_FILE, "Debian packages for Jupyter", true), checkJupyterLab(), ...checkPackages(VAGRANT_PACKAGES_FILE, "Debian packages for the Vagrant backend", true)];
  // Without root, the namespace probes can only fail for that reason: say it once.
  if (!root.ok) return base;
  return [...base, checkStateDir(), checkNamespaces(), ...checkKernelFeatures(), checkFuse(), checkNodeLimits(), checkVirtualization()];
}

// Kubernetes (labbook up --kubernetes). The embedded cluster runs without it, so what is missing here is a
// warning: doctor passes, and says what `up --kubernetes` would need. Covered elsewhere, not repeated:
// containerd and runc (infra/packages.txt, "Debian packages"), the vxlan device flannel makes ("kernel:
// vxlan", the same probe), iptables' nat, filter and raw tables for kube-proxy ("kernel: iptables").

/** Where a Go that infra/setup.sh would find, but PATH does not, usually is. */
const LOCAL_GO = "/usr/local/go/bin/go";
const GO_FIX = `install Go ${MINIMUM_GO} or newer from https://go.dev/dl into /usr/local/go (Debian 12's golang-go is 1.19, too old), then: export PATH=/usr/local/go/bin:$PATH`;
/** What kubelet checks for at start (cgroup v1), and pids for pods' process limits. */
export const KUBERNETES_CGROUP_CONTROLLERS = ["cpu", "cpuacct", "cpuset", "memory", "pids"] as const;

/** Go's version, or goVersion()'s error (which names the fix). */
async function askGo(): Promise<{ version: string } | { error: LabbookError }> {
  try {
    return { version: await goVersion() };
  } catch (error) {
    if (error instanceof LabbookError) return { error };
    throw error;
  }
}

/** Go builds Kubernetes; only a rebuild needs it once the build exists. */
export async function checkGo(build = currentBuild(), go?: Awaited<ReturnType<typeof askGo>>): Promise<CheckResult> {
  const name = "Kubernetes: Go toolchain";
  const answer = go ?? (await askGo());
  if ("version" in answer) return { name, ok: true, detail: `Go ${answer.version} (${MINIMUM_GO} or newer builds Kubernetes ${KUBERNETES_VERSION})` };
  const onlyOffPath = !/ this machine has Go /.test(answer.error.message) && existsSync(LOCAL_GO);
  const built = build ? `; only a rebuild needs Go: the build in ${build.dir} runs without it` : "";
  return {
    name,
    ok: false,
    warning: true,
    detail: `${onlyOffPath ? `${LOCAL_GO} is installed but not on PATH` : answer.error.message}${built}`,
    fix: onlyOffPath ? "export PATH=/usr/local/go/bin:$PATH" : GO_FIX,
  };
}

const BUILD_FIX = "labbook kubernetes build";
/** A complete build whose files went missing is not rebuilt without --force. */
const REBUILD_FIX = "labbook kubernetes build --force";

/**
 * The build `labbook up --kubernetes` runs (the newest complete one of the pinned version, as requireBuild
 * finds it); with `go` given, also whether it was built from this checkout's inputs.
 */
export function checkKubernetesBuild(go?: string): CheckResult {
  const name = `Kubernetes: ${KUBERNETES_VERSION} build`;
  const build = currentBuild();
  const where = join(cacheRoot(), "kubernetes");
  if (!build) return { name, ok: false, warning: true, detail: `not built in ${where}: labbook up --kubernetes cannot start (the first build takes about 15 minutes on 2 cores)`, fix: BUILD_FIX };
  const missing = Object.values(build.bin).filter((file) => !existsSync(file));
  if (missing.length) return { name, ok: false, warning: true, detail: `${build.dir} lacks ${missing.join(", ")}`, fix: REBUILD_FIX };
  if (go && !currentBuild(go)) {
    return { name, ok: false, warning: true, detail: `${build.dir} is not the build of this checkout's inputs (its pins, runner/kubernetes/build.ts and infra/go/, with Go ${go}, make another key); labbook up --kubernetes runs it as it is`, fix: BUILD_FIX };
  }
  return { name, ok: true, detail: build.dir };
}

/** The pod images (images.json) and the containerd root they were imported into, which each node copies: there is no registry. */
export function checkKubernetesImages(build: KubernetesBuild | undefined = currentBuild()): CheckResult {
  const name = "Kubernetes: images";
  if (!build) return { name, ok: false, warning: true, detail: "no build to hold them", fix: BUILD_FIX };
  if (build.images.length === 0) return { name, ok: false, warning: true, detail: `${join(build.dir, "images.json")} lists no images`, fix: REBUILD_FIX };
  if (!existsSync(join(build.containerdRoot, "io.containerd.metadata.v1.bolt"))) return { name, ok: false, warning: true, detail: `${build.containerdRoot} (the images imported into a containerd root, which each node copies) is missing or incomplete`, fix: REBUILD_FIX };
  const missing = build.images.filter((image) => !existsSync(image.archive));
  if (missing.length) return { name, ok: false, warning: true, detail: `missing ${missing.map((i) => `${i.ref} (${i.archive})`).join(", ")}`, fix: REBUILD_FIX };
  return { name, ok: true, detail: build.images.map((i) => i.ref).join(", ") };
}

/** containerd's overlayfs snapshotter (kubernetes/node-files.ts) mounts overlay for every container. */
export function checkOverlayFilesystem(filesystems = readFileSync("/proc/filesystems", "utf8")): CheckResult {
  const name = "Kubernetes: kernel overlay filesystem";
  const ok = filesystems.split("\n").some((line) => line.trim().split(/\s+/).at(-1) === "overlay");
  return ok ? { name, ok, detail: "in /proc/filesystems" } : { name, ok, warning: true, detail: "no overlay in /proc/filesystems: containerd cannot unpack the pods' images", fix: "modprobe overlay" };
}

/** kubelet and flannel need bridged pod traffic to pass iptables: br_netfilter's bridge-nf-call-iptables. */
export function checkBrNetfilter(dir = "/proc/sys/net/bridge"): CheckResult {
  const name = "Kubernetes: kernel br_netfilter";
  return existsSync(join(dir, "bridge-nf-call-iptables"))
    ? { name, ok: true, detail: `${dir} present` }
    : {
        name,
        ok: false,
        warning: true,
        detail: `no ${dir}: pods on a node's bridge would bypass kube-proxy's rules (loading it makes every network namespace's bridged traffic, the host's too, pass iptables)`,
        fix: "modprobe br_netfilter",
      };
}

/** The cgroup v1 hierarchies each Kubernetes node mounts for itself (node-kubernetes.sh), from /proc/mounts. */
export function checkCgroupControllers(mounts = readFileSync("/proc/self/mounts", "utf8")): CheckResult {
  const name = `Kubernetes: cgroup v1 controllers (${KUBERNETES_CGROUP_CONTROLLERS.join(", ")})`;
  const mounted = new Set(
    mounts
      .split("\n")
      .map((line) => line.split(" "))
      .filter((fields) => fields[2] === "cgroup")
      .flatMap((fields) => (fields[3] ?? "").split(",")),
  );
  const missing = KUBERNETES_CGROUP_CONTROLLERS.filter((c) => !mounted.has(c));
  if (missing.length === 0) return { name, ok: true, detail: "mounted" };
  // Only cgroup v2 at /sys/fs/cgroup: its controllers cannot be mounted as v1 hierarchies beside it.
  const unifiedOnly = mounts.split("\n").some((line) => / \/sys\/fs\/cgroup cgroup2 /.test(line));
  return {
    name,
    ok: false,
    warning: true,
    detail: `not mounted as cgroup v1: ${missing.join(", ")}; each Kubernetes node mounts these hierarchies for its kubelet, which will not start without them`,
    fix: unifiedOnly
      ? "boot with cgroup v1 (kernel command line: systemd.unified_cgroup_hierarchy=0); labbook's Kubernetes nodes mount cgroup v1 hierarchies"
      : missing.map((c) => `mkdir -p /sys/fs/cgroup/${c} && mount -t cgroup -o ${c} cgroup /sys/fs/cgroup/${c}`).join(" && "),
  };
}

/** What `labbook up --kubernetes` needs; warnings only (see above). */
export async function checkKubernetes(): Promise<CheckResult[]> {
  const build = currentBuild();
  const go = await askGo();
  return [await checkGo(build, go), checkKubernetesBuild("version" in go ? go.version : undefined), checkKubernetesImages(build), checkOverlayFilesystem(), checkBrNetfilter(), checkCgroupControllers()];
}
