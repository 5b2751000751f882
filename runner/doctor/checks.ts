// What `labbook doctor` checks. Each probe is real: kernel features are tried by
// creating the device inside a throwaway network namespace, never in the host's.
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { privateDirs } from "../backend/netns/node-files.ts";
import { stateRoot } from "../backend/netns/state.ts";
import { NODE_LIMITS, limitSupport } from "../backend/netns/cgroups.ts";
import { kvmUsable } from "../backend/vagrant/vm-host.ts";
import { JUPYTER_PACKAGES_FILE, PACKAGES_FILE, VAGRANT_PACKAGES_FILE, requiredPackages } from "./packages.ts";

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** The command that fixes it, when there is one. */
  fix?: string;
  /** A warning does not make doctor fail. */
  warning?: boolean;
}

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

export function checkRoot(): CheckResult {
  const uid = process.getuid?.() ?? -1;
  return uid === 0
    ? { name: "running as root", ok: true, detail: "uid 0" }
    : { name: "running as root", ok: false, detail: `uid ${uid}: namespaces and mounts need root`, fix: "sudo labbook ..." };
}

/** The cluster's packages by default; `optional` lists make a warning, not a failure. */
export function checkPackages(file = PACKAGES_FILE, label = "Debian packages", optional = false): CheckResult[] {
  const packages = requiredPackages(readFileSync(file, "utf8"), file);
  const missing = packages.filter((p) => !existsSync(p.file));
  if (missing.length === 0) return [{ name: label, ok: true, detail: `all ${packages.length} installed` }];
  return [
    {
      name: label,
      ok: false,
      ...(optional ? { warning: true } : {}),
      detail: missing.map((p) => `${p.name} (no ${p.file}: ${p.why})`).join("; "),
      fix: `apt-get install -y --no-install-recommends ${missing.map((p) => p.name).join(" ")}`,
    },
  ];
}

/** The mount points of each node's private state: missing, a node would write to the host's disk. */
export function checkPrivateDirs(dirs = privateDirs()): CheckResult {
  const missing = dirs.filter((dir) => !existsSync(dir));
  const name = "node-private directories";
  if (missing.length === 0) return { name, ok: true, detail: `all ${dirs.length} mount points exist` };
  return { name, ok: false, detail: `missing ${missing.join(", ")}: nodes would share the host's`, fix: `mkdir -p ${missing.join(" ")}` };
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
 * Notebooks load the ESM SDK through require(): unflagged from Node 20.19 and 22.12.
 * Before 24.11.1, tsx runs its hooks on a loader thread, which deadlocked now and then.
 */
export function checkNode(): CheckResult {
  const [major = 0, minor = 0, patch = 0] = process.versions.node.split(".").map(Number);
  const requiresEsm = major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19);
  const inThreadHooks = major > 24 || (major === 24 && (minor > 11 || (minor === 11 && patch >= 1)));
  const fix = "sudo infra/setup.sh deps (installs the pinned Node.js into .labbook/node)";
  if (!requiresEsm) return { name: "Node.js", ok: false, detail: `${process.version} cannot require() ES modules, which notebooks need`, fix };
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

export function runAllChecks(): CheckResult[] {
  const root = checkRoot();
  const base = [root, checkNode(), checkNpmDependencies(), ...checkPackages(), checkPrivateDirs(), ...checkPackages(JUPYTER_PACKAGES_FILE, "Debian packages for Jupyter", true), ...checkPackages(VAGRANT_PACKAGES_FILE, "Debian packages for the Vagrant backend", true)];
  // Without root, the namespace probes can only fail for that reason: say it once.
  if (!root.ok) return base;
  return [...base, checkStateDir(), checkNamespaces(), ...checkKernelFeatures(), checkFuse(), checkNodeLimits(), checkVirtualization()];
}
