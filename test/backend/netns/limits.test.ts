// Per-node limits (cgroups, capabilities): a fork bomb and a memory hog stop at their node's limits while another
// cluster carries on, a node cannot open a block device even one it made itself, and `down` removes the
// cgroups. Where this machine cannot set limits, the tests say so and are skipped (doctor warns too).
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { NODE_LIMITS, limitSupport } from "../../../runner/host/cgroups.ts";
import { NetnsBackend } from "../../../runner/backend/netns/driver.ts";
import { NODE_OPEN_FILES } from "../../../runner/host/holder.ts";
import { readState } from "../../../runner/host/state.ts";
import { upTestCluster } from "../../helpers/cluster.ts";

const backend = new NetnsBackend();
/** Root of the machine in the node, as GlusterFS's labs have: the cgroups are then what holds it. */
const PRIVILEGED = "the limits test: the cgroups alone must hold root";

describe("node limits", function () {
  this.timeout(120_000);
  before(function () {
    const { problem } = limitSupport();
    if (problem) {
      process.stdout.write(`      skipped: ${problem}\n`);
      this.skip();
    }
  });

  it("stops a fork bomb at the node's task limit while another cluster carries on; down removes the cgroups", async () => {
    const [bombed, bystander] = await Promise.all([upTestCluster({ backend }), upTestCluster({ backend })]);
    const cgroups = readState(bombed.name)!.cgroups.node1!.map(dirname);
    try {
      assert.ok(cgroups.length >= 2, `cgroups: ${cgroups.join(", ")}`);
      const pidsDir = cgroups.find((dir) => existsSync(`${dir}/pids.max`))!;
      assert.equal(readFileSync(`${pidsDir}/pids.max`, "utf8").trim(), String(NODE_LIMITS.pids));
      const bomb = bombed.node("node1").$({ nothrow: true, timeout: 8000 })`bash -c 'b() { b | b & }; b'`;
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const peak = Number(readFileSync(`${pidsDir}/pids.current`, "utf8"));
      assert.ok(peak <= NODE_LIMITS.pids, `pids.current ${peak}`);
      // The other cluster is served meanwhile.
      assert.equal(String(await bystander.node("node1").$`ssh -o BatchMode=yes 192.168.0.12 hostname`), "node2");
      await bomb;
    } finally {
      await Promise.all([bombed.down(), bystander.down()]);
    }
    for (const dir of cgroups) assert.equal(existsSync(dir), false, `${dir} was left behind`);
  });

  it("ends a memory hog inside its node, which keeps working", async () => {
    const cluster = await upTestCluster({ backend });
    try {
      const node = cluster.node("node2");
      const hog = await node.$({ nothrow: true })`python3 -c 'b = bytearray(${NODE_LIMITS.memoryBytes * 2})'`;
      assert.notEqual(hog.exitCode, 0, "the hog got its memory");
      // The kernel's OOM killer ends it in its cgroup (SIGKILL), or Python gets no memory at all.
      assert.ok(hog.exitCode === 137 || hog.signal === "SIGKILL" || /MemoryError/.test(hog.stderr), `exit ${hog.exitCode}, signal ${hog.signal}: ${hog.stderr}`);
      assert.equal(String(await node.$`hostname`), "node2");
    } finally {
      await cluster.down();
    }
  });

  it("keeps the machine-wide capabilities from every process of a node: modules, clock, reboot, raw I/O", async () => {
    const cluster = await upTestCluster({ backend });
    try {
      const status = String(await cluster.node("node1").$`grep -E '^Cap(Bnd|Eff)' /proc/self/status`);
      const bits = Object.fromEntries(status.split("\n").map((line) => [line.split(":")[0]!, BigInt(`0x${line.split(":")[1]!.trim()}`)]));
      // Bit numbers from linux/capability.h.
      for (const [name, bit] of [["sys_module", 16n], ["sys_rawio", 17n], ["sys_time", 25n], ["sys_boot", 22n], ["syslog", 34n]] as const) {
        assert.equal((bits.CapBnd! >> bit) & 1n, 0n, `${name} is in the bounding set`);
        assert.equal((bits.CapEff! >> bit) & 1n, 0n, `${name} is effective`);
      }
      const clock = await cluster.node("node1").$({ nothrow: true })`date -s "$(date)"`;
      assert.notEqual(clock.exitCode, 0, "a node set the machine's clock");
      // Open files: capped, and the cap cannot be raised from inside.
      assert.equal(String(await cluster.node("node1").$`ulimit -Hn`), String(NODE_OPEN_FILES));
      const raise = await cluster.node("node1").$({ nothrow: true })`ulimit -Hn ${NODE_OPEN_FILES * 2}`;
      assert.notEqual(raise.exitCode, 0, "a node raised its open-files limit");
      // What labs need stays: net_admin (12), sys_admin (21), net_raw (13).
      for (const bit of [12n, 13n, 21n]) assert.equal((bits.CapEff! >> bit) & 1n, 1n, `capability ${bit} is missing`);
    } finally {
      await cluster.down();
    }
  });

  // A fenced node cannot mount cgroupfs or make a device at all (fence.test.ts); a privileged one can, and its cgroups hold it.
  it("keeps root in a privileged node inside its cgroups: a cgroupfs it mounts shows nothing above its own limits", async () => {
    const cluster = await upTestCluster({ backend, privileged: PRIVILEGED });
    try {
      const node = cluster.node("node1");
      // What a determined root would try: mount the devices hierarchy, move to its top, then open a disk.
      const disk = readdirSync("/sys/block").find((name) => !/^(loop|ram|zram|nbd)/.test(name)) ?? "sda";
      const [major, minor] = readFileSync(`/sys/block/${disk}/dev`, "utf8").trim().split(":") as [string, string];
      const escape = await node.$({ nothrow: true })`mkdir -p /tmp/cg && mount -t cgroup -o devices none /tmp/cg && echo $$ > /tmp/cg/cgroup.procs && mknod /tmp/disk b ${major} ${minor} && head -c 512 /tmp/disk | wc -c`;
      assert.notEqual(escape.stdout.trim(), "512", `root in a node read the host's ${disk} after moving cgroups`);
      assert.match(escape.stderr, /Operation not permitted/);
      const pids = await node.$({ nothrow: true })`mkdir -p /tmp/pg && mount -t cgroup -o pids none /tmp/pg && cat /tmp/pg/pids.max`;
      assert.equal(pids.stdout.trim(), String(NODE_LIMITS.pids), `the top of the node's pids hierarchy: ${pids.stdout}${pids.stderr}`);
    } finally {
      await cluster.down();
    }
  });

  it("refuses block devices in a privileged node, even one it made with mknod", async () => {
    const cluster = await upTestCluster({ backend, privileged: PRIVILEGED });
    try {
      const disk = readdirSync("/sys/block").find((name) => !/^(loop|ram|zram|nbd)/.test(name)) ?? "sda";
      const [major, minor] = readFileSync(`/sys/block/${disk}/dev`, "utf8").trim().split(":") as [string, string];
      const tryRead = await cluster.node("node1").$({ nothrow: true })`mknod /tmp/disk b ${major} ${minor} && head -c 512 /tmp/disk | wc -c`;
      assert.notEqual(tryRead.exitCode === 0 && tryRead.stdout.trim() === "512", true, `a node read the host's ${disk}`);
      assert.match(tryRead.stderr, /Operation not permitted/);
    } finally {
      await cluster.down();
    }
  });
});
