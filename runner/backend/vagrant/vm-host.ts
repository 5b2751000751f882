// The VM host: one holder process (the netns backend's, see host/holder.ts) whose network, mount and
// PID namespaces hold libvirtd, virtlogd, dnsmasq, every qemu and every vagrant command of one cluster.
// libvirt's bridges, NAT rules and DHCP therefore exist only there, never in the host's root namespace,
// and killing the holder's PID 1 ends every VM with it.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LabbookError } from "../../errors.ts";
import { spawnHolder } from "../../host/holder.ts";
import { hostExec } from "../netns/host-exec.ts";
import { MARKER_VARIABLE } from "../../host/procfs.ts";
import type { HolderRecord } from "../../host/state.ts";

const HOST_INIT = fileURLToPath(new URL("./vm-host-init.sh", import.meta.url));

/** Directories of the host the VM host binds its own over; Debian's libvirt-daemon-system creates them. */
export const LIBVIRT_MOUNT_POINTS = ["/var/lib/libvirt", "/var/log/libvirt", "/var/cache/libvirt", "/etc/libvirt"];

/**
 * qemu as root with no cgroups, no private /dev and no security driver: inside a namespace of its
 * own none of those can be set up, and the holder's PID namespace already bounds every qemu's life.
 */
const QEMU_CONF = `user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
namespaces = [ ]
cgroup_controllers = [ ]
security_driver = "none"
`;

const LIBVIRTD_CONF = `log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
`;

/** True where /dev/kvm exists but cannot run a stock guest (a paravirtual-only KVM): libvirt must not see it. */
export function kvmUsable(): boolean {
  if (process.env.LABBOOK_LIBVIRT_DRIVER) return process.env.LABBOOK_LIBVIRT_DRIVER === "kvm";
  // Only the guest can tell for sure; the CPU flags say whether hardware virtualization is offered at all.
  try {
    return existsSync("/dev/kvm") && /\b(vmx|svm)\b/.test(readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    return false;
  }
}

export interface VmHostDirs {
  /** libvirt's configuration for this host only: no storage pool or network survives the cluster. */
  etc: string;
  /** Bound over /var/{lib,log,cache}/libvirt: VM disks, logs, dnsmasq leases. */
  state: string;
}

export function vmHostDirs(clusterDir: string): VmHostDirs {
  return { etc: join(clusterDir, "libvirt-etc"), state: join(clusterDir, "libvirt") };
}

export async function startVmHost(marker: string, dirs: VmHostDirs, hideKvm: boolean): Promise<HolderRecord> {
  const missing = LIBVIRT_MOUNT_POINTS.filter((dir) => !existsSync(dir));
  if (missing.length > 0) throw new LabbookError(`libvirt is not installed (no ${missing.join(", ")}): sudo infra/setup.sh vagrant installs it`);
  rmSync(dirs.etc, { recursive: true, force: true });
  mkdirSync(dirs.etc, { recursive: true, mode: 0o700 });
  writeFileSync(join(dirs.etc, "qemu.conf"), QEMU_CONF);
  writeFileSync(join(dirs.etc, "libvirtd.conf"), LIBVIRTD_CONF);
  const host = await spawnHolder(marker);
  await hostExec("nsenter", ["-t", String(host.pid), "-a", "sh", HOST_INIT], {
    step: "start libvirtd for the VMs",
    env: { HOST_DIR: dirs.state, ETC_DIR: dirs.etc, HIDE_KVM: hideKvm ? "1" : "0", [MARKER_VARIABLE]: marker },
  });
  return host;
}

export interface VagrantCommand {
  host: HolderRecord;
  args: string[];
  env: Record<string, string>;
  marker: string;
  /** Each line Vagrant prints, as it prints it. */
  onLine?: (line: string) => void;
}

/** Runs vagrant inside the VM host; resolves with its output, rejects with its last lines. */
export function runVagrant({ host, args, env, marker, onLine }: VagrantCommand): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("nsenter", ["-t", String(host.pid), "-a", "vagrant", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", HOME: process.env.HOME ?? "/root", ...env, [MARKER_VARIABLE]: marker },
    });
    let output = "";
    let pending = "";
    const take = (chunk: string) => {
      output += chunk;
      pending += chunk;
      // Progress bars redraw with \r: only whole lines are worth showing.
      const lines = pending.split(/\r?\n/);
      pending = lines.pop()!;
      for (const line of lines) if (!line.includes("\r") && line.trim()) onLine?.(line);
    };
    child.stdout.setEncoding("utf8").on("data", take);
    child.stderr.setEncoding("utf8").on("data", take);
    child.once("error", (error) => reject(new LabbookError(`cannot run vagrant: ${error.message}`)));
    child.once("close", (code, signal) => {
      if (code === 0) return resolve(output);
      const lines = output.split("\n").filter((l) => !l.includes("\r") && !/^\s*\/usr\/(share|lib)\//.test(l));
      // Killed by a signal: say which, since something outside Vagrant did it (the VM host ending, a kill).
      const how = code === null ? `was killed by ${signal ?? "a signal"}` : `exited with ${code}`;
      reject(new LabbookError(`vagrant ${args[0]} ${how}:\n${[...failedMachinesOutput(lines), ...lines.slice(-15)].join("\n")}`));
    });
  });
}

/**
 * What each machine that failed printed last (its provisioner's own errors), which Vagrant's closing
 * summary only points to ("should be in the log above").
 */
function failedMachinesOutput(lines: string[]): string[] {
  const said: string[] = [];
  for (const [index, line] of lines.entries()) {
    const failed = /^==> ([\w-]+): An error occurred/.exec(line);
    if (!failed) continue;
    const own = lines.slice(0, index).filter((l) => l.startsWith(`    ${failed[1]}: `)).slice(-8);
    if (own.length > 0) said.push(`${failed[1]} said last:`, ...own);
  }
  return said;
}
