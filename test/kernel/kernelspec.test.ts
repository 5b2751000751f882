import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { installKernelSpec, kernelSpec, kernelSpecDir, KERNEL_NAME, LAUNCHER_PATH } from "../../runner/kernel/kernelspec.ts";
import { labbook } from "../helpers/cli.ts";
import { ensureKernelSnapshot, kernelSnapshot, snapshotArgs } from "../../runner/kernel/snapshot.ts";

const LAUNCHER = fileURLToPath(new URL("../../runner/kernel/launcher.cjs", import.meta.url));

describe("kernelspec (labbook kernel)", () => {
  let prefix: string;

  beforeEach(() => {
    prefix = mkdtempSync(join(tmpdir(), "labbook-kernelspec-"));
  });
  afterEach(() => {
    rmSync(prefix, { recursive: true, force: true });
  });

  it("names the running node, the warm snapshot and the launcher by absolute path, and the labs' kernel name", () => {
    assert.equal(LAUNCHER_PATH, LAUNCHER);
    assert.ok(existsSync(LAUNCHER_PATH));
    assert.equal(ensureKernelSnapshot().problem, undefined);
    assert.deepEqual(snapshotArgs(), ["--initial-heap-size=512", "--snapshot-blob", kernelSnapshot()]);
    assert.deepEqual(kernelSpec({}), {
      argv: [process.execPath, ...snapshotArgs(), LAUNCHER, "kernel", "--config-path", "{connection_file}"],
      display_name: "TypeScript (labbook)",
      language: "typescript",
    });
    assert.deepEqual(kernelSpec({ LABBOOK_STATE_DIR: "/run/elsewhere" }).env, { LABBOOK_STATE_DIR: "/run/elsewhere" });
    const lab = JSON.parse(readFileSync(fileURLToPath(new URL("../../labs/00-hello-cluster/00-hello-cluster.ipynb", import.meta.url)), "utf8")) as { metadata: { kernelspec: { name: string } } };
    assert.equal(lab.metadata.kernelspec.name, KERNEL_NAME);
  });

  it("installs under PREFIX/share/jupyter/kernels/labbook-tslab", () => {
    const dir = installKernelSpec({ prefix }, {});
    assert.equal(dir, join(prefix, "share/jupyter/kernels/labbook-tslab"));
    assert.equal(kernelSpecDir({ prefix }), dir);
    const file = join(dir, "kernel.json");
    assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), kernelSpec({}));
    assert.equal(statSync(file).mode & 0o777, 0o644);
    assert.ok(!existsSync(`${file}.tmp`));
  });

  it("labbook kernel install --prefix writes kernel.json with the state directory, and prints its directory", async () => {
    const expected = join(prefix, "share/jupyter/kernels/labbook-tslab");
    const path = await labbook(["kernel", "path", "--prefix", prefix]);
    assert.equal(path.code, 0, path.stderr);
    assert.equal(path.stdout, `${expected}\n`);
    assert.ok(!existsSync(expected), "kernel path must not write anything");

    const result = await labbook(["kernel", "install", "--prefix", prefix]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${expected}\n`);
    const spec = JSON.parse(readFileSync(join(expected, "kernel.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(spec, {
      argv: [process.execPath, LAUNCHER, "kernel", "--config-path", "{connection_file}"],
      display_name: "TypeScript (labbook)",
      language: "typescript",
      // the root hooks set it for the whole suite
      env: { LABBOOK_STATE_DIR: process.env.LABBOOK_STATE_DIR },
    });
    assert.ok(process.env.LABBOOK_STATE_DIR);

    // Installing again replaces it.
    assert.equal((await labbook(["kernel", "install", "--prefix", prefix])).code, 0);
  });

  it("defaults to /usr/local as root, the user's data directory with --user", async () => {
    const system = await labbook(["kernel", "path"]);
    if (process.getuid?.() === 0) assert.equal(system.stdout, "/usr/local/share/jupyter/kernels/labbook-tslab\n");
    const user = await labbook(["kernel", "path", "--user"]);
    assert.equal(user.code, 0);
    const dataDir = process.env.JUPYTER_DATA_DIR ?? join(process.env.XDG_DATA_HOME || join(process.env.HOME ?? "", ".local/share"), "jupyter");
    assert.equal(user.stdout, `${join(dataDir, "kernels", "labbook-tslab")}\n`);
  });

  it("rejects bad usage with exit code 2", async () => {
    for (const args of [["kernel"], ["kernel", "frobnicate"], ["kernel", "install", "--user", "--prefix", prefix], ["kernel", "install", "extra", "x"]]) {
      const result = await labbook(args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, /^labbook: /);
    }
    assert.ok(!existsSync(join(prefix, "share")));
  });
});
