// The README's first VM path, offline, on this machine's software emulation: a plain `vagrant up` with
// LABBOOK_KUBERNETES=1, run the way a user runs it (the Vagrantfile, Vagrant's own box handling, no labbook
// in between), then labbook attaching to those VMs by itself: `status`, `reset --save`, lab 04 in Jupyter,
// `notebook`, and `down` refusing VMs it did not start; then `reset` (the snapshot restored, Kubernetes back)
// and lab 09, a Kubernetes lab, through `labbook run`. CI left those two out from 2026-12-03 (a restore of 3 VMs
// took 272 s and more there, and lab 09 failed on them twice); after the fixes since, resets took 40 to 95 s and
// lab 09 passed on VMs in two full runs of every lab (2026-12-04), so they are back in. LABBOOK_TEST_VAGRANT_RESTORE=0
// leaves them out, for a quicker look. A user's Vagrant would use the host's
// libvirt; here it runs in a VM host of its own (a private libvirtd in namespaces, as `labbook up --backend
// vagrant` uses), and so do the labbook commands, so that nothing touches the host's network.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { takeDown } from "../../runner/backend/cluster-sweep.ts";
import { localBoxFile } from "../../runner/backend/vagrant/box.ts";
import { kvmUsable, startVmHost, vmHostDirs } from "../../runner/backend/vagrant/vm-host.ts";
import { MARKER_VARIABLE, processesMarked } from "../../runner/host/procfs.ts";
import type { HolderRecord } from "../../runner/host/state.ts";
import { installKernelSpec, KERNEL_NAME } from "../../runner/kernel/kernelspec.ts";
import { CHECK_MIME, type Notebook } from "../../runner/notebook/types.ts";
import { BIN, labbook as runLabbook, type CliResult } from "../helpers/cli.ts";
import { snapshotHost } from "../helpers/host-snapshot.ts";
import { testMarker } from "../helpers/test-marker.ts";
import { timedInto } from "../helpers/timings.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
// The test run's PID in it: a later run removes this VM host if this one was killed before its `after` (root-hooks.ts).
const MARKER = testMarker("plain-vagrant-up");
// Lab 04 through Jupyter, on the VMs as `vagrant up` left them; lab 09 through `labbook run`, after a restore,
// unless LABBOOK_TEST_VAGRANT_RESTORE=0 (every lab on VMs is `npm run test:vagrant:all`).
const WITH_RESTORE = process.env.LABBOOK_TEST_VAGRANT_RESTORE !== "0";
const withRestore = WITH_RESTORE ? it : it.skip;
const RUN_LAB = "labs/09-volumes/09-volumes.ipynb";
const JUPYTER_LAB = "labs/04-nic-passthrough/04-nic-passthrough.ipynb";
const timings: Record<string, number> = {};

/** A course checkout of its own: the Vagrantfile and infra/, as a user's clone has them. */
const checkout = mkdtempSync(join(tmpdir(), "labbook-plain-vagrant-"));
const out = join(checkout, "out");

describe("plain `vagrant up` with Kubernetes, offline, then labbook attaches (TCG)", function () {
  this.timeout(60 * 60_000);
  const hostBefore = snapshotHost();
  let host: HolderRecord;

  /** `command` inside the VM host, with the user's environment for this checkout; its output as it ends. */
  function inVmHost(command: string[], env: Record<string, string> = {}): Promise<CliResult> {
    const child = spawn("nsenter", ["-t", String(host.pid), "-a", ...command], {
      cwd: checkout,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
        HOME: join(checkout, "home"),
        VAGRANT_CWD: checkout,
        VAGRANT_HOME: join(checkout, "vagrant.d"),
        VAGRANT_CHECKPOINT_DISABLE: "1",
        VAGRANT_DEFAULT_PROVIDER: "libvirt",
        TMPDIR: join(checkout, "tmp"),
        LABBOOK_LIBVIRT_DRIVER: kvmUsable() ? "kvm" : "qemu",
        [MARKER_VARIABLE]: MARKER,
        ...env,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    return new Promise((resolve) => child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  }

  const labbookIn = (args: string[]) => inVmHost([process.execPath, BIN, ...args]);

  const timed = <T>(label: string, work: () => Promise<T>): Promise<T> => timedInto(timings, label, work);

  before(async () => {
    // The box with Kubernetes, as `labbook box build` makes it (cached: seconds when it is built already).
    const build = await timed("box build", () => runLabbook(["box", "build"]));
    assert.equal(build.code, 0, build.stderr.slice(-3000));
    assert.ok(existsSync(localBoxFile()));
    cpSync(join(ROOT, "Vagrantfile"), join(checkout, "Vagrantfile"));
    cpSync(join(ROOT, "infra"), join(checkout, "infra"), { recursive: true });
    for (const dir of ["home", "tmp", "libvirt"]) mkdirSync(join(checkout, dir), { recursive: true });
    host = await startVmHost(MARKER, vmHostDirs(join(checkout, "libvirt")), !kvmUsable());
  });

  after(async () => {
    // Not labbook's VMs: they end with their VM host, as a user's end with `vagrant destroy`.
    if (host) await takeDown("plain", [host], MARKER, join(checkout, "libvirt"));
    rmSync(checkout, { recursive: true, force: true });
    process.stdout.write(`\n  timings: ${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")}\n`);
  });

  it("`LABBOOK_KUBERNETES=1 vagrant up` makes 3 VMs with kubeadm's Kubernetes from the box, with no network", async () => {
    const up = await timed("vagrant up (3 VMs, Kubernetes)", () => inVmHost(["vagrant", "up"], { LABBOOK_KUBERNETES: "1" }));
    assert.equal(up.code, 0, (up.stdout + up.stderr).slice(-4000));
    assert.match(up.stdout, /labbook: Kubernetes v1\.35\.4 on node1 \(init\), offline, from the box/);
    assert.match(up.stdout, /Your Kubernetes control-plane has initialized successfully/);
    assert.match(up.stdout, /labbook: node3 joined Kubernetes v1\.35\.4 as join/);
  });

  it("`labbook status --backend vagrant` finds those VMs by itself, reading vagrant ssh-config once", async () => {
    const status = await timed("status (attach)", () => labbookIn(["status", "--backend", "vagrant", "--json"]));
    assert.equal(status.code, 0, status.stderr);
    const cluster = (JSON.parse(status.stdout) as Array<{ name: string; state: string; nodes: Array<{ name: string; running: boolean }> }>).find((c) => c.name === "labbook");
    assert.equal(cluster?.state, "up", status.stdout);
    assert.deepEqual(cluster.nodes.map((n) => n.name), ["node1", "node2", "node3"]);
    const cached = JSON.parse(readFileSync(join(checkout, ".labbook", "vagrant", "plain.json"), "utf8")) as { kubernetes: boolean; nodes: Record<string, { lanInterface: string }> };
    assert.equal(cached.kubernetes, true);
    assert.equal(cached.nodes.node1?.lanInterface, "eth1");
    // kubectl works on every node, as on the embedded cluster. The attach waited for every node Ready; a request
    // the apiserver still cuts off under software emulation ("stream error ... INTERNAL_ERROR", CI 2026-12-04) is
    // asked again twice, visibly, as a user would; a third answer of that kind fails the test.
    const getNodes = () => labbookIn(["exec", "--backend", "vagrant", "node3", "--", "kubectl", "get", "nodes", "-o", "name"]);
    let kubectl = await getNodes();
    for (let attempt = 2; attempt <= 3 && kubectl.code !== 0 && /Unable to connect to the server/.test(kubectl.stderr); attempt++) {
      process.stdout.write(`      kubectl on node3, attempt ${attempt} of 3 in 20 s: ${kubectl.stderr.trim().split("\n")[0]}\n`);
      await new Promise((resolve) => setTimeout(resolve, 20_000));
      kubectl = await getNodes();
    }
    assert.equal(kubectl.code, 0, kubectl.stderr);
    assert.deepEqual(kubectl.stdout.trim().split("\n"), ["node/node1", "node/node2", "node/node3"]);
  });

  it("`labbook reset --save` takes the VMs' clean state", async () => {
    const save = await timed("reset --save", () => labbookIn(["reset", "--backend", "vagrant", "--save"]));
    assert.equal(save.code, 0, save.stderr + save.stdout);
    assert.match(save.stdout, /saved the snapshot "labbook-clean" of cluster "labbook"/);
  });

  it("a lab in Jupyter (labbook's kernelspec, nbconvert --execute) works on those VMs, which are not rebuilt", async () => {
    // VMs are not rebuilt for a lab in Jupyter (a student resets them between labs, as docs/vagrant.md says):
    // these are as `vagrant up` left them.
    const prefix = join(checkout, "jupyter");
    installKernelSpec({ prefix });
    const executed = join(out, "jupyter");
    const nbconvert = await timed("lab 04 in Jupyter on the VMs", () =>
      inVmHost(["jupyter-nbconvert", "--to", "notebook", "--execute", `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`, "--ExecutePreprocessor.timeout=600", "--output-dir", executed, join(ROOT, JUPYTER_LAB)], {
        JUPYTER_PATH: join(prefix, "share", "jupyter"),
        LABBOOK_BACKEND: "vagrant",
      }),
    );
    assert.equal(nbconvert.code, 0, nbconvert.stderr.slice(-4000));
    const text = readFileSync(join(executed, "04-nic-passthrough.ipynb"), "utf8");
    assert.match(text, /is made of VMs, which are not rebuilt for each lab/);
    const checks = (JSON.parse(text) as Notebook).cells.flatMap((cell) =>
      cell.cell_type === "code" ? cell.outputs.flatMap((o) => (o.output_type === "display_data" && o.data[CHECK_MIME] ? [o.data[CHECK_MIME] as unknown as { name: string; passed: boolean; message: string }] : [])) : [],
    );
    assert.ok(checks.length > 0, "no check ran");
    assert.deepEqual(checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.message}`), []);
  });

  withRestore("`labbook reset` restores the clean snapshot, Kubernetes Ready again", async () => {
    const reset = await timed("reset", () => labbookIn(["reset", "--backend", "vagrant"]));
    assert.equal(reset.code, 0, reset.stderr + reset.stdout);
    assert.match(reset.stdout, /restored the snapshot "labbook-clean" of cluster "labbook"/);
  });

  withRestore("`labbook run --backend vagrant` runs lab 09 (Kubernetes) on them, from the clean snapshot", async () => {
    const run = await timed("lab 09 on the VMs", () => labbookIn(["run", "--backend", "vagrant", "--isolate-hidden", "--keep-going", "--report", "json", "--out", out, join(ROOT, RUN_LAB)]));
    const report = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as { notebooks: Array<{ notebook: string; passed: boolean; durationMs: number; cells: Array<{ id: string; status: string; skipReason?: string }> }> };
    for (const notebook of report.notebooks) timings[`${notebook.notebook.split("/").pop()!.slice(0, 2)} on the VMs`] = notebook.durationMs / 1000;
    assert.equal(run.code, 0, run.stdout.slice(-4000) + run.stderr.slice(-2000));
    // The lab on the clean VMs: the run restored the snapshot before it.
    assert.equal(run.stderr.match(/restored the snapshot "labbook-clean"/g)?.length, 1, run.stderr);
    assert.deepEqual(report.notebooks.map((n) => n.passed), [true]);
    const skipped = report.notebooks.flatMap((n) => n.cells.filter((c) => c.status === "skipped" && c.skipReason?.startsWith("needs kubernetes")).map((c) => c.id));
    assert.deepEqual(skipped, [], "Kubernetes cells skipped on VMs that run Kubernetes");
  });

  it("`labbook notebook --backend vagrant` serves the labs with those VMs, and leaves them up", async () => {
    const child = spawn("nsenter", ["-t", String(host.pid), "-a", process.execPath, BIN, "notebook", "--backend", "vagrant", "--port", "18988"], {
      cwd: checkout,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, VAGRANT_CWD: checkout, HOME: join(checkout, "home") },
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.resume();
    const closed = new Promise<number | null>((resolve) => child.once("close", resolve));
    const deadline = Date.now() + 120_000;
    while (!stdout.includes("Press Ctrl-C") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    // Ctrl-C to labbook itself: nsenter (its parent, which forked it into the VM host's PID namespace) forwards
    // no signal, and exits with labbook's status.
    const labbookPid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(" ")[0]);
    process.kill(labbookPid, "SIGINT");
    assert.equal(await closed, 0);
    assert.match(stdout, /Jupyter is serving .* with cluster "labbook" \(already up; it stays up\)/);
  });

  it("`labbook down` leaves VMs it did not start alone, and says how to remove them", async () => {
    const down = await labbookIn(["down", "--backend", "vagrant"]);
    assert.notEqual(down.code, 0);
    assert.match(down.stderr, /plain "vagrant up".*vagrant destroy/);
  });

  it("leaves the host's network as it was, and nothing of the VMs once their host is gone", async () => {
    await takeDown("plain", [host], MARKER, join(checkout, "libvirt"));
    assert.deepEqual(processesMarked((marker) => marker === MARKER), []);
    assert.deepEqual(snapshotHost(), hostBefore);
  });
});
