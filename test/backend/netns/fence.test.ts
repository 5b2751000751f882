// The fence around root in a node (node-fence.sh): a user namespace of the node's own, and mounts made
// by the machine's root that the node cannot undo. What a determined root tries is refused by the
// kernel; what labs do still works; a privileged cluster (GlusterFS) is the one declared exception.
import assert from "node:assert/strict";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { NetnsBackend } from "../../../runner/backend/netns/driver.ts";
import { suiteCluster, upTestCluster } from "../../helpers/cluster.ts";

const backend = new NetnsBackend();

/** umount2(path, MNT_DETACH) called directly (x86-64 syscall 166): umount(8) may refuse before the kernel is asked. */
const UNMOUNT = `syscall(166, $ARGV[0], 2) == 0 ? print "unmounted\\n" : print "$!\\n"`;

describe("the fence around root in a node", function () {
  this.timeout(120_000);
  const fenced = suiteCluster({ backend });

  it("keeps the machine's sysctls, /sys and /proc's knobs read-only, and their mounts locked", async () => {
    const node = fenced().node("node1");
    const pidMax = readFileSync("/proc/sys/kernel/pid_max", "utf8").trim();
    const write = await node.$({ nothrow: true })`echo ${pidMax} > /proc/sys/kernel/pid_max`;
    assert.match(write.stderr, /Read-only file system/);
    const affinity = await node.$({ nothrow: true })`cat /proc/irq/default_smp_affinity > /proc/irq/default_smp_affinity`;
    assert.match(affinity.stderr, /Read-only file system/);
    for (const path of ["/proc/sys", "/proc/sys/net", "/sys", "/proc", "/proc/irq", "/dev", "/", "/etc/hosts"]) {
      assert.equal(String(await node.$`perl -e ${UNMOUNT} ${path}`), "Invalid argument", `root in a node unmounted ${path}`);
    }
    for (const [path, options] of [["/proc/sys", "remount,bind,rw"], ["/sys", "remount,rw"]] as const) {
      const remount = await node.$({ nothrow: true })`mount -o ${options} ${path}`;
      assert.notEqual(remount.exitCode, 0, `root in a node remounted ${path} read-write`);
    }
    assert.equal(readFileSync("/proc/sys/kernel/pid_max", "utf8").trim(), pidMax);
  });

  it("refuses new mounts that would reach the machine: proc, a writable sysfs, debugfs, bpf, cgroups", async () => {
    const node = fenced().node("node1");
    await node.$`mkdir -p /tmp/m`;
    for (const [type, options] of [["proc", "rw"], ["sysfs", "rw"], ["debugfs", "rw"], ["bpf", "rw"], ["cgroup2", "rw"], ["cgroup", "pids"]] as const) {
      const mount = await node.$({ nothrow: true })`mount -t ${type} -o ${options} none /tmp/m`;
      assert.notEqual(mount.exitCode, 0, `root in a node mounted ${type}`);
    }
    // What a node may mount is its own: a tmpfs.
    await node.$`mount -t tmpfs none /tmp/m && umount /tmp/m`;
  });

  it("has no device it was not given, cannot make one, and cannot rename the machine", async () => {
    const node = fenced().node("node1");
    assert.deepEqual(
      String(await node.$`ls /dev`).split("\n").filter((name) => !["fd", "stdin", "stdout", "stderr", "pts", "shm", "ptmx"].includes(name)).sort(),
      ["full", "fuse", "net", "null", "random", "tty", "urandom", "zero"].filter((name) => existsSync(`/dev/${name}`)),
    );
    const mknod = await node.$({ nothrow: true })`mknod /tmp/mem c 1 1`;
    assert.match(mknod.stderr, /Operation not permitted/);
    const rename = await node.$({ nothrow: true })`hostname evil`;
    assert.notEqual(rename.exitCode, 0);
    assert.equal(String(await node.$`hostname`), "node1");
  });

  it("is root in its own user namespace: the same user IDs as the host's, and every capability there", async () => {
    const node = fenced().node("node1");
    assert.equal(String(await node.$`id -u`), "0");
    assert.deepEqual(String(await node.$`cat /proc/self/uid_map`).trim().split(/\s+/), ["0", "0", "65536"]);
    assert.notEqual(String(await node.$`readlink /proc/self/ns/user`), readlinkSync("/proc/self/ns/user"), "a node shares the machine's user namespace");
  });

  it("still does what labs do: iptables, ip netns exec with its own /sys, net sysctls, a veth moved, tcpdump, tun", async () => {
    const node = fenced().node("node1");
    await node.$`iptables -t nat -A POSTROUTING -s 10.1.0.0/16 -j MASQUERADE`;
    assert.match(String(await node.$`iptables -t nat -S POSTROUTING`), /MASQUERADE/);
    await node.$`sysctl -qw net.ipv4.ip_forward=1`;
    await node.$`ip netns add c1 && ip link add v1 type veth peer name eth0 netns c1`;
    assert.deepEqual(String(await node.$`ip netns exec c1 ls /sys/class/net`).split("\n").sort(), ["eth0", "lo"]);
    await node.$`ip tuntap add dev tun0 mode tun && ip link del tun0`;
    const capture = await node.$`timeout 5 tcpdump -c 1 -i eth0 -n icmp 2>/dev/null & sleep 1; ping -c 2 -W 1 192.168.0.12 >/dev/null; wait`;
    assert.match(capture.stdout, /ICMP echo request/);
  });

  it("lets a lab declare privileged nodes: trusted.* xattrs (GlusterFS) work there and nowhere else", async () => {
    const xattr = `touch /tmp/f && setfattr -n trusted.labbook -v 1 /tmp/f && getfattr --only-values -n trusted.labbook /tmp/f`;
    const refused = await fenced().node("node2").$({ nothrow: true })`sh -c ${xattr}`;
    assert.notEqual(refused.exitCode, 0, "a fenced node set a trusted.* xattr");
    assert.equal(fenced().has("machine-root"), false);
    const privileged = await upTestCluster({ backend, privileged: "the test's GlusterFS stand-in" });
    try {
      assert.equal(privileged.has("machine-root"), true);
      assert.equal(String(await privileged.node("node2").$`sh -c ${xattr}`), "1");
    } finally {
      await privileged.down();
    }
  });
});
