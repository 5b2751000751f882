// The Vagrant driver without VMs (those take minutes: npm run test:vagrant): its VM host keeps libvirt's
// networks out of the host's root namespace, leftovers of a killed `up` are removed by the next command,
// and commands that need a running VM cluster or fresh clusters say so.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnHolder } from "../../../runner/host/holder.ts";
import { isRunning, processesMarked } from "../../../runner/host/procfs.ts";
import { VagrantBackend } from "../../../runner/backend/vagrant/driver.ts";
import { clusterDir, ensureClustersDir, vagrantRoot, writeState } from "../../../runner/backend/vagrant/state.ts";
import { startVmHost, vmHostDirs } from "../../../runner/backend/vagrant/vm-host.ts";
import { labbook } from "../../helpers/cli.ts";
import { snapshotHost } from "../../helpers/host-snapshot.ts";

const backend = new VagrantBackend();
const markerFor = (name: string) => `${vagrantRoot()}::${name}`;
const LAN = `<network><name>labbook-lan</name><bridge name="virbr9"/><ip address="192.168.0.1" netmask="255.255.255.0"/></network>`;

describe("vagrant backend (no VMs)", function () {
  this.timeout(60_000);

  it("runs libvirtd in a VM host of its own: its networks exist there, never in the host's root namespace", async () => {
    const before = snapshotHost();
    ensureClustersDir();
    const dir = clusterDir("vhost-test");
    mkdirSync(dir, { recursive: true });
    const host = await startVmHost(markerFor("vhost-test"), vmHostDirs(dir), true);
    try {
      const inHost = (...args: string[]) => execFileSync("nsenter", ["-t", String(host.pid), "-a", ...args], { encoding: "utf8" });
      writeFileSync(join(vmHostDirs(dir).state, "lib", "lan.xml"), LAN);
      inHost("virsh", "-q", "net-create", "/var/lib/libvirt/lan.xml");
      assert.match(inHost("ip", "-br", "addr", "show", "virbr9"), /192\.168\.0\.1\/24/);
      // Software emulation only: libvirt was kept from probing the unusable /dev/kvm.
      assert.match(inHost("virsh", "capabilities"), /<domain type='qemu'\/>/);
      assert.doesNotMatch(execFileSync("ip", ["-br", "link"], { encoding: "utf8" }), /virbr9/);
      assert.deepEqual(snapshotHost(), before);
    } finally {
      await backend.down("vhost-test");
    }
    assert.equal(isRunning(host), false, "down ends the VM host and libvirtd with it");
    assert.deepEqual(processesMarked((m) => m === markerFor("vhost-test")), []);
    assert.equal(existsSync(dir), false);
    assert.deepEqual(snapshotHost(), before);
  });

  it("removes a killed `up`'s VM host and directory on the next `labbook down --all`", async () => {
    ensureClustersDir();
    mkdirSync(clusterDir("crashed"), { recursive: true });
    const host = await spawnHolder(markerFor("crashed"));
    // An `up` killed with -9 while Vagrant ran: state "starting", its owner gone, the VM host still there.
    writeState({
      name: "crashed", backend: "vagrant", phase: "starting", owner: { pid: 999_999_999, startTime: "1" }, createdAt: new Date().toISOString(),
      topology: { source: "test", network: { cidr: "192.168.0.0/24", gateway: "192.168.0.1", prefix: 24 }, nodes: [] }, host, box: "labbook/bookworm", kubernetes: false, nodes: {},
    });
    const status = await labbook(["status", "--backend", "vagrant", "--json"]);
    assert.equal((JSON.parse(status.stdout) as Array<{ name: string; state: string }>).find((c) => c.name === "crashed")?.state, "down");
    const down = await labbook(["down", "--all"]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /"crashed"/);
    assert.equal(isRunning(host), false);
    assert.equal(existsSync(clusterDir("crashed")), false);
  });

  it("says what to do when no VM cluster is up, and refuses to grade on shared VMs", async () => {
    const run = await labbook(["run", "--backend", "vagrant", "labs/00-hello-cluster/00-hello-cluster.ipynb", "--out", join(vagrantRoot(), "out")]);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stderr, /no Vagrant cluster named "labbook" \(start one with "labbook up --backend vagrant"\)/);
    const grade = await labbook(["grade", "labs/02-cross-host-routes/02-cross-host-routes.ipynb", "labs/02-cross-host-routes/02-cross-host-routes.ipynb", "--backend", "vagrant"]);
    assert.equal(grade.code, 2);
    assert.match(grade.stderr, /shares one cluster between runs; grade on the netns backend/);
    const named = await labbook(["run", "--name", "x", "labs/00-hello-cluster/00-hello-cluster.ipynb"]);
    assert.equal(named.code, 2);
    assert.match(named.stderr, /--name: the netns backend runs each notebook on a fresh cluster of its own/);
    const noReset = await labbook(["run", "--no-reset", "labs/00-hello-cluster/00-hello-cluster.ipynb"]);
    assert.equal(noReset.code, 2);
    assert.match(noReset.stderr, /--no-reset: the netns backend runs each notebook on a fresh cluster of its own/);
  });

  it("refuses Kubernetes on a box built without it before any VM boots, naming `labbook box build`", async () => {
    const cache = mkdtempSync(join(tmpdir(), "labbook-box-cache-"));
    mkdirSync(join(cache, "box"));
    writeFileSync(join(cache, "box", "labbook-bookworm.box"), "not a box: labbook never gets as far as adding it");
    const saved = process.env.LABBOOK_CACHE_DIR;
    process.env.LABBOOK_CACHE_DIR = cache;
    try {
      const up = await labbook(["up", "--backend", "vagrant", "--kubernetes", "--name", "nokube"]);
      assert.equal(up.code, 1, up.stdout + up.stderr);
      assert.match(up.stderr, /labbook-bookworm\.box has no Kubernetes baked in, and Kubernetes was asked for: "sudo labbook box build" builds the box with it/);
      assert.equal(existsSync(clusterDir("nokube")), false, "nothing of the refused cluster is left");
    } finally {
      if (saved === undefined) delete process.env.LABBOOK_CACHE_DIR;
      else process.env.LABBOOK_CACHE_DIR = saved;
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
