// The host's root network namespace as labbook must leave it: links, addresses,
// routes, rules, iptables, forwarding sysctls, named netns and mounts; and the machine-wide settings
// that Kubernetes' components (kubelet, kube-proxy, flannel, containerd) would write if they could.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";

export type HostSnapshot = Record<string, string>;

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}

/** ip -j output with the fields that change on their own (counters, timers) removed. */
function ipJson(args: string[], keep: string[]): string {
  const items = JSON.parse(run("ip", ["-j", ...args]) || "[]") as Array<Record<string, unknown>>;
  return items.map((item) => JSON.stringify(keep.map((k) => [k, item[k]]))).sort().join("\n");
}

/** iptables-save without its date line and packet counters. */
function rules(command: string): string {
  if (!existsSync(`/usr/sbin/${command}`)) return "not installed";
  return run(command, [])
    .split("\n")
    .filter((line) => !line.startsWith("#"))
    .map((line) => line.replace(/\[\d+:\d+\]/g, ""))
    .join("\n");
}

function sysctls(dir: string): string {
  return readdirSync(dir)
    .filter((name) => statSync(`${dir}/${name}`).isFile())
    .map((name) => {
      try {
        return `${name}=${readFileSync(`${dir}/${name}`, "utf8").trim()}`;
      } catch {
        return `${name}=<unreadable>`;
      }
    })
    .join("\n");
}

/**
 * Machine-wide settings Kubernetes' components touch. kubelet writes the first six at start (a node binds
 * files of its own over them: kubernetes/node-kubernetes.sh); kube-proxy would size conntrack (maxPerCore 0
 * keeps it off: nf_conntrack_max and the hash size); containerd, kubelet and the pods raise limits that are
 * the whole machine's (pids, inotify, files, maps, keys). A setting whose module is not loaded
 * (nf_conntrack, br_netfilter) is recorded as absent: loading it would show as a change too.
 */
const MACHINE_SETTINGS = [
  "/proc/sys/vm/overcommit_memory",
  "/proc/sys/vm/panic_on_oom",
  "/proc/sys/kernel/panic",
  "/proc/sys/kernel/panic_on_oops",
  "/proc/sys/kernel/keys/root_maxkeys",
  "/proc/sys/kernel/keys/root_maxbytes",
  "/proc/sys/net/netfilter/nf_conntrack_max",
  "/proc/sys/net/nf_conntrack_max",
  "/sys/module/nf_conntrack/parameters/hashsize",
  "/proc/sys/kernel/pid_max",
  "/proc/sys/fs/inotify/max_user_watches",
  "/proc/sys/fs/inotify/max_user_instances",
  "/proc/sys/fs/file-max",
  "/proc/sys/vm/max_map_count",
  "/proc/sys/kernel/keys/maxkeys",
  "/proc/sys/kernel/keys/maxbytes",
];

/** Per network namespace: these are the root namespace's values, which kubeadm's preflight would have set. */
const ROOT_NETNS_SETTINGS = ["/proc/sys/net/core/somaxconn", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/bridge/bridge-nf-call-iptables"];

/** `path=value` per setting, "absent" where the kernel has no such setting. */
function settings(paths: string[]): string {
  return paths
    .map((path) => {
      if (!existsSync(path)) return `${path}=absent`;
      try {
        return `${path}=${readFileSync(path, "utf8").trim()}`;
      } catch (error) {
        return `${path}=<unreadable: ${(error as NodeJS.ErrnoException).code}>`;
      }
    })
    .join("\n");
}

/** The inode number of the kernel's initial PID namespace (PROC_PID_INIT_INO, include/linux/proc_ns.h): fixed. */
const INITIAL_PID_NAMESPACE = "pid:[4026531836]";

function namespaceOf(pid: number | "self", kind: string): string {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch (error) {
    return `unreadable /proc/${pid}/ns/${kind} (${(error as NodeJS.ErrnoException).code})`;
  }
}

/**
 * The snapshot reads /proc/sys/net, ip and iptables in its own network namespace, and mountinfo in its own
 * mount namespace: only in the host's root ones does it see the host. In the initial PID namespace, PID 2 is
 * kthreadd, whose namespaces are the kernel's initial ones (PID 1's may be unreadable even to root).
 */
export function assertRootNamespaces(): void {
  const pid = namespaceOf("self", "pid");
  const wrong =
    pid !== INITIAL_PID_NAMESPACE || readFileSync("/proc/2/comm", "utf8").trim() !== "kthreadd"
      ? [`pid (${pid}, not ${INITIAL_PID_NAMESPACE})`]
      : ["net", "mnt", "user"].filter((kind) => namespaceOf("self", kind) !== namespaceOf(2, kind)).map((kind) => `${kind} (${namespaceOf("self", kind)}, not ${namespaceOf(2, kind)})`);
  if (wrong.length) throw new Error(`the host snapshot must be taken in the host's root namespaces; this process is in other ones: ${wrong.join(", ")}`);
}

export function snapshotHost(): HostSnapshot {
  assertRootNamespaces();
  return {
    links: ipJson(["link", "show"], ["ifname", "flags", "mtu", "address", "master", "link_type", "linkinfo"]),
    addresses: ipJson(["addr", "show"], ["ifname", "addr_info"]),
    routes: ipJson(["route", "show", "table", "all"], ["dst", "gateway", "dev", "table", "protocol", "scope", "prefsrc", "type"]),
    routes6: ipJson(["-6", "route", "show", "table", "all"], ["dst", "gateway", "dev", "table", "protocol", "type"]),
    rules: ipJson(["rule", "show"], ["priority", "src", "dst", "table", "action"]),
    iptables: rules("iptables-save"),
    ip6tables: rules("ip6tables-save"),
    ipv4: sysctls("/proc/sys/net/ipv4/conf/all") + "\n" + readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8"),
    ipv6Forwarding: readFileSync("/proc/sys/net/ipv6/conf/all/forwarding", "utf8"),
    nfLogAllNetns: existsSync("/proc/sys/net/netfilter/nf_log_all_netns") ? readFileSync("/proc/sys/net/netfilter/nf_log_all_netns", "utf8") : "absent",
    netns: run("ip", ["netns", "list"]),
    mounts: readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((line) => line.split(" ").slice(4, 5).concat(line.split(" - ")[1] ?? "").join(" "))
      .sort()
      .join("\n"),
    machineSettings: settings(MACHINE_SETTINGS),
    rootNetnsSettings: settings(ROOT_NETNS_SETTINGS),
  };
}

/** The names of the parts that differ, each with a short diff. */
export function diffSnapshots(before: HostSnapshot, after: HostSnapshot): string[] {
  return Object.keys(before).flatMap((key) => {
    if (before[key] === after[key]) return [];
    const was = new Set(before[key]!.split("\n"));
    const now = new Set(after[key]!.split("\n"));
    const added = [...now].filter((l) => !was.has(l)).map((l) => `  + ${l}`);
    const removed = [...was].filter((l) => !now.has(l)).map((l) => `  - ${l}`);
    return [`${key}:\n${[...removed, ...added].slice(0, 20).join("\n")}`];
  });
}
