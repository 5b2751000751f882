// The Vagrantfile, checked offline: `vagrant validate` passes with no box added, it builds its machines
// from the topology (a custom one with a bad address fails, naming the node), and the provisioning
// scripts pass shellcheck.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const SCRIPT_DIRS = [join(ROOT, "infra", "provision"), join(ROOT, "infra", "box"), join(ROOT, "runner", "backend", "vagrant")];
const run = promisify(execFile);

const scratch = mkdtempSync(join(tmpdir(), "labbook-vagrant-"));

async function vagrant(args: string[], env: Record<string, string> = {}) {
  try {
    // VAGRANT_DOTFILE_PATH: the machine state Vagrant writes goes to scratch, not into the checkout.
    const vagrantEnv = { VAGRANT_CHECKPOINT_DISABLE: "1", VAGRANT_DEFAULT_PROVIDER: "libvirt", VAGRANT_DOTFILE_PATH: join(scratch, "dot-vagrant") };
    const { stdout, stderr } = await run("vagrant", args, { cwd: ROOT, env: { ...process.env, ...vagrantEnv, ...env } });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

describe("the Vagrantfile", function () {
  this.timeout(60_000);
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("passes vagrant validate offline, with no box added", async () => {
    const result = await vagrant(["validate"]);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /Vagrantfile validated successfully/);
  });

  it("takes its machines from the topology file: a node outside the LAN is refused by name", async () => {
    const topology = join(scratch, "bad.yaml");
    writeFileSync(topology, "network:\n  cidr: 192.168.0.0/24\n  gateway: 192.168.0.1\nnodes:\n  - name: edge7\n    ip: 10.9.9.9\n");
    const result = await vagrant(["validate"], { LABBOOK_TOPOLOGY: topology });
    assert.notEqual(result.code, 0);
    assert.match(result.output, /edge7: 10\.9\.9\.9 is not in 192\.168\.0\.0/);
  });

  it("refuses LABBOOK_KUBERNETES=1 without a box that has Kubernetes in it, naming `labbook box build`", async () => {
    const cache = join(scratch, "cache");
    mkdirSync(join(cache, "box"), { recursive: true });
    const none = await vagrant(["validate"], { LABBOOK_KUBERNETES: "1", LABBOOK_CACHE_DIR: cache });
    assert.notEqual(none.code, 0);
    assert.match(none.output, /LABBOOK_KUBERNETES=1, but there is no box at .*labbook-bookworm\.box: run "sudo labbook box build"/);
    writeFileSync(join(cache, "box", "labbook-bookworm.box"), "a box built without Kubernetes");
    const without = await vagrant(["validate"], { LABBOOK_KUBERNETES: "1", LABBOOK_CACHE_DIR: cache });
    assert.notEqual(without.code, 0);
    assert.match(without.output, /the box .*labbook-bookworm\.box has no Kubernetes baked in: run "sudo labbook box build" \(it bakes Kubernetes in\)/);
  });

  it("has provisioning and box-building scripts that pass shellcheck", async () => {
    const scripts = SCRIPT_DIRS.flatMap((dir) => readdirSync(dir).filter((name) => name.endsWith(".sh")).map((name) => join(dir, name)));
    assert.ok(scripts.length >= 5, scripts.join(", "));
    const result = await run("shellcheck", ["--shell=sh", ...scripts]).then(
      () => ({ code: 0, output: "" }),
      (error: { code?: number; stdout?: string }) => ({ code: error.code ?? 1, output: error.stdout ?? "" }),
    );
    assert.equal(result.code, 0, result.output);
  });
});
