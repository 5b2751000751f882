// Every lab on VMs (npm run test:vagrant:all): `labbook up --backend vagrant --kubernetes` makes 3 VMs with
// kubeadm's Kubernetes, offline, from the box, and `labbook run --backend vagrant labs/` runs all of them,
// each after `labbook reset` brought the VMs back to their clean snapshot, hidden checks as grading runs them.
// Every lab must pass, no Kubernetes cell may be skipped, and the host must be as it was. Under software
// emulation it takes about 90 minutes here (2026-12-04: `up` 12 min, the labs 77), so CI runs the smaller
// `npm run test:vagrant` instead.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { UP_RECORD } from "../../bench/vagrant.bench.ts";
import { processesMarked } from "../../runner/host/procfs.ts";
import { labbook } from "../helpers/cli.ts";
import { snapshotHost } from "../helpers/host-snapshot.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const NAME = "vall";
// Kept after the run (the previous run's is replaced): the executed notebooks to read, and results.json, whose
// per-lab times `npm run bench -- --only=vagrant --vagrant-labs=FILE` can report instead of running every lab again.
const out = join(ROOT, ".labbook", "reports", "vagrant-all");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

interface Report {
  notebooks: Array<{ notebook: string; passed: boolean; durationMs: number; cells: Array<{ id: string; status: string; skipReason?: string }> }>;
}

describe("every lab on 3 VMs with Kubernetes (TCG), offline", function () {
  this.timeout(3 * 60 * 60_000);
  const hostBefore = snapshotHost();
  let upPassed = false;

  after(async () => {
    await labbook(["down", "--backend", "vagrant", "--name", NAME]);
    process.stdout.write(`      executed notebooks and results.json: ${out}\n`);
  });

  it("`labbook up --backend vagrant --kubernetes` makes 3 VMs with Kubernetes from the box", async () => {
    const build = await labbook(["box", "build"]);
    assert.equal(build.code, 0, build.stderr.slice(-3000));
    const started = performance.now();
    const up = await labbook(["up", "--backend", "vagrant", "--kubernetes", "--name", NAME]);
    const upMs = performance.now() - started;
    process.stdout.write(`      up, 3 VMs with Kubernetes: exit ${up.code} after ${(upMs / 1000).toFixed(0)} s\n`);
    // For `npm run bench -- --only=vagrant --vagrant-labs=.../results.json`, which then need not repeat it.
    writeFileSync(join(out, UP_RECORD), `${JSON.stringify({ upMs: Math.round(upMs), exitCode: up.code, startedAt: new Date(Date.now() - upMs).toISOString() })}\n`);
    assert.equal(up.code, 0, up.stderr.slice(-4000) + up.stdout);
    upPassed = true;
  });

  it("`labbook run --backend vagrant labs/` passes every lab, Kubernetes cells included", async function () {
    // Without VMs every lab would fail at once on "no Vagrant cluster": the failure above says why.
    if (!upPassed) this.skip();
    const run = await labbook(["run", "--backend", "vagrant", "--name", NAME, "--isolate-hidden", "--keep-going", "--timeout", "900", "--report", "json", "--out", out, join(ROOT, "labs")]);
    const report = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as Report;
    for (const notebook of report.notebooks) {
      const skipped = notebook.cells.filter((c) => c.status === "skipped").map((c) => `${c.id} (${c.skipReason})`);
      process.stdout.write(`      ${notebook.passed ? "passed" : "FAILED"} ${notebook.notebook.split("/").pop()} in ${(notebook.durationMs / 1000).toFixed(1)} s${skipped.length ? `; skipped: ${skipped.join(", ")}` : ""}\n`);
    }
    assert.equal(run.code, 0, run.stdout.slice(-6000) + run.stderr.slice(-2000));
    assert.ok(report.notebooks.length >= 11, `${report.notebooks.length} notebooks`);
    const kubernetesSkipped = report.notebooks.flatMap((n) => n.cells.filter((c) => c.status === "skipped" && c.skipReason?.startsWith("needs kubernetes")).map((c) => `${n.notebook}: ${c.id}`));
    assert.deepEqual(kubernetesSkipped, [], "Kubernetes cells skipped on VMs that run Kubernetes");
  });

  it("takes the VMs down and leaves the host as it was", async () => {
    const down = await labbook(["down", "--backend", "vagrant", "--name", NAME]);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(processesMarked((marker) => marker.endsWith(`::${NAME}`)), []);
    assert.deepEqual(snapshotHost(), hostBefore);
  });
});
