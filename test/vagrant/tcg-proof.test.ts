// The Vagrant backend end to end, offline, on this machine's software emulation (npm run test:vagrant):
// build the box (cached), `labbook up --backend vagrant` two VMs, run labs 02 and 03 on them through
// `labbook run --backend vagrant`, take everything down, and check that the host's root network namespace
// is as it was and that nothing of the cluster is left. It takes minutes, so it is not in `npm test`.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { localBoxFile } from "../../runner/backend/vagrant/box.ts";
import { clusterDir } from "../../runner/backend/vagrant/state.ts";
import { processesMarked } from "../../runner/host/procfs.ts";
import { labbook } from "../helpers/cli.ts";
import { snapshotHost } from "../helpers/host-snapshot.ts";
import { timedInto } from "../helpers/timings.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const NAME = "vproof";
const LABS = ["labs/02-cross-host-routes/02-cross-host-routes.ipynb", "labs/03-cni-by-hand/03-cni-by-hand.ipynb"];
const out = mkdtempSync(join(tmpdir(), "labbook-vagrant-proof-"));
const timings: Record<string, number> = {};

const timed = <T>(label: string, work: () => Promise<T>): Promise<T> => timedInto(timings, label, work);

describe("the Vagrant backend on software emulation (TCG), offline", function () {
  this.timeout(30 * 60_000);
  const before = snapshotHost();

  after(async () => {
    await labbook(["down", "--backend", "vagrant", "--name", NAME]);
    rmSync(out, { recursive: true, force: true });
    process.stdout.write(`\n  timings: ${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")}\n`);
  });

  it("builds the box offline, with Kubernetes baked in (cached by its inputs)", async () => {
    const build = await timed("box build", () => labbook(["box", "build"]));
    assert.equal(build.code, 0, build.stderr.slice(-3000));
    assert.ok(existsSync(localBoxFile()));
  });

  it("brings up 2 VMs with `labbook up --backend vagrant`", async () => {
    const up = await timed("vagrant up (2 nodes)", () => labbook(["up", "--backend", "vagrant", "--name", NAME, "--nodes", "2"]));
    assert.equal(up.code, 0, up.stderr + up.stdout);
    assert.match(up.stdout, /cluster "vproof" is up \(vagrant/);
    assert.match(up.stderr, /\[\d+ s\] vagrant: ==> node1: /, "vagrant's progress is shown live");
    process.stdout.write(up.stderr.replace(/^/gm, "      "));
    const status = await labbook(["status", "--backend", "vagrant", "--json"]);
    const cluster = (JSON.parse(status.stdout) as Array<{ name: string; state: string }>).find((c) => c.name === NAME);
    assert.equal(cluster?.state, "up");
  });

  it("runs commands on the VMs over ssh2 (exec), as root, on real systemd", async () => {
    const exec = await labbook(["exec", "--backend", "vagrant", "--name", NAME, "node2", "--", "sh", "-c", "id -un; hostname; systemctl is-system-running || true; ip -br addr show eth1"]);
    assert.equal(exec.code, 0, exec.stderr);
    const [user, host, systemd] = exec.stdout.split("\n");
    assert.equal(user, "root");
    assert.equal(host, "node2");
    assert.match(systemd!, /running|degraded/);
    assert.match(exec.stdout, /192\.168\.0\.12\/24/);
  });

  it("lets root ssh from node to node by name, host keys checked (lab 00's `ssh node2`), each VM with a host key of its own", async () => {
    const hop = await labbook(["exec", "--backend", "vagrant", "--name", NAME, "node2", "--", "ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "node1", "hostname"]);
    assert.equal(hop.code, 0, hop.stderr);
    assert.equal(hop.stdout.trim(), "node1");
    const keys = await Promise.all(["node1", "node2"].map((node) => labbook(["exec", "--backend", "vagrant", "--name", NAME, node, "--", "cat", "/etc/ssh/ssh_host_ed25519_key.pub"])));
    assert.notEqual(keys[0]!.stdout.split(" ")[1], keys[1]!.stdout.split(" ")[1], "two VMs share a host key");
    // A machine id of each VM's own (hostname.sh makes it: the box carries one), and udev leaves vxlan MACs alone
    // (lab 05's flannel.1).
    const ids = await Promise.all(["node1", "node2"].map((node) => labbook(["exec", "--backend", "vagrant", "--name", NAME, node, "--", "sh", "-c", "cat /etc/machine-id; ip link add lbtest0 type vxlan id 9 dstport 4789 dev eth1 && sleep 1 && cat /sys/class/net/lbtest0/addr_assign_type; ip link del lbtest0"])));
    for (const id of ids) assert.equal(id.code, 0, id.stderr);
    const [first, second] = ids.map((id) => id.stdout.trim().split("\n"));
    assert.match(first![0]!, /^[0-9a-f]{32}$/);
    assert.notEqual(first![0], second![0], "two VMs share a machine id");
    assert.deepEqual([first![1], second![1]], ["1", "1"], "a vxlan device's MAC was rewritten (addr_assign_type 1: random, as the kernel made it; 3: set by udev)");
  });

  it("runs lab 02 (cross-host routes) and lab 03 (CNI) with `labbook run --backend vagrant`", async () => {
    const run = await timed("labs 02 + 03 on vagrant", () => labbook(["run", "--backend", "vagrant", "--name", NAME, "--isolate-hidden", "--report", "json", "--out", out, ...LABS]));
    const report = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as { notebooks: Array<{ notebook: string; passed: boolean; durationMs: number; backend: string }> };
    for (const notebook of report.notebooks) timings[`${notebook.notebook.split("/").pop()!.slice(0, 2)} on vagrant`] = notebook.durationMs / 1000;
    assert.equal(run.code, 0, run.stdout.slice(-3000) + run.stderr);
    assert.deepEqual(report.notebooks.map((n) => [n.backend, n.passed]), [["vagrant", true], ["vagrant", true]]);
  });

  it("says which VM does not answer, and how to bring it back, when one is stopped", async () => {
    const state = JSON.parse(readFileSync(join(clusterDir(NAME), "state.json"), "utf8")) as { host: { pid: number } };
    const domains = execFileSync("nsenter", ["-t", String(state.host.pid), "-a", "virsh", "-q", "list", "--name"], { encoding: "utf8" }).split("\n").filter(Boolean);
    const node2 = domains.find((d) => d.endsWith("_node2"));
    assert.ok(node2, domains.join(", "));
    execFileSync("nsenter", ["-t", String(state.host.pid), "-a", "virsh", "-q", "destroy", node2]);
    const exec = await labbook(["exec", "--backend", "vagrant", "--name", NAME, "node2", "--", "true"]);
    assert.notEqual(exec.code, 0);
    assert.match(exec.stderr, /the VM node2 does not answer \(stopped, or hung\): "labbook reset --backend vagrant --name vproof" brings every VM back/);
  });

  it("takes everything down: no VM host process, no cluster directory, the host's network unchanged", async () => {
    const down = await timed("down", () => labbook(["down", "--backend", "vagrant", "--name", NAME]));
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /removed "vproof"/);
    assert.deepEqual(processesMarked((marker) => marker.endsWith(`::${NAME}`) && marker.includes("vagrant")), []);
    assert.equal(existsSync(clusterDir(NAME)), false);
    assert.deepEqual(snapshotHost(), before);
  });
});
