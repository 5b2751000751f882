// The host's root network namespace as labbook must leave it: links, addresses,
// routes, rules, iptables, forwarding sysctls, named netns and mounts.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";

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

export function snapshotHost(): HostSnapshot {
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
