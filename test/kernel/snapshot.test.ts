// The warm kernel (runner/kernel/snapshot.ts): a kernel started from the V8 snapshot compiles and type-checks
// cells as tslab does, in the notebook's own folder (its helpers resolve there), and with the launcher's fixes;
// a snapshot whose sources changed is not used.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KernelClient } from "../../runner/kernel/client.ts";
import { LAUNCHER_PATH } from "../../runner/kernel/kernelspec.ts";
import { ensureKernelSnapshot, kernelSnapshot, snapshotArgs, snapshotProblem } from "../../runner/kernel/snapshot.ts";
import type { Message } from "../../runner/kernel/wire.ts";
import { FIXTURE_ROOT } from "../helpers/notebooks.ts";

async function run(kernel: KernelClient, code: string): Promise<{ status: string; text: string }> {
  let text = "";
  const reply = await kernel.execute(code, (message: Message) => {
    const content = message.content as { text?: string; evalue?: string };
    text += content.text ?? content.evalue ?? "";
  });
  return { status: reply.status, text };
}

describe("the warm kernel (V8 snapshot)", function () {
  this.timeout(120_000);
  let folder: string;

  before(() => {
    const built = ensureKernelSnapshot();
    assert.equal(built.problem, undefined, built.problem);
    assert.equal(snapshotProblem(), undefined);
    // A notebook's folder inside the checkout, with a helper of its own, as a lab has.
    mkdirSync(FIXTURE_ROOT, { recursive: true });
    folder = mkdtempSync(join(FIXTURE_ROOT, "warm-"));
    writeFileSync(join(folder, "helper.ts"), "export function double(n: number): number {\n  return 2 * n;\n}\n");
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it("starts kernels from the snapshot, which run, type-check and import from the notebook's folder", async () => {
    assert.deepEqual(snapshotArgs(), ["--initial-heap-size=512", "--snapshot-blob", kernelSnapshot()]);
    const kernel = await KernelClient.start({ cwd: folder });
    try {
      const cmdline = readFileSync(`/proc/${kernel.pid}/cmdline`, "utf8").split("\0");
      assert.deepEqual(cmdline.slice(1, 4), ["--initial-heap-size=512", "--snapshot-blob", kernelSnapshot()], "not started from the snapshot");
      const imported = await run(kernel, 'import { double } from "./helper.js";\nimport { check } from "labbook";\nconsole.log(double(21), typeof check);');
      assert.deepEqual(imported, { status: "ok", text: "42 function\n" });
      const cwd = await run(kernel, "console.log(process.cwd());");
      assert.equal(cwd.text.trim(), folder);
      // Node's own types, from the parsed libraries in the snapshot.
      const node = await run(kernel, 'import { createHash } from "node:crypto";\nconst digest: string = createHash("sha256").update("x").digest("hex");\nconsole.log(digest.length);');
      assert.deepEqual(node, { status: "ok", text: "64\n" });
      // TypeScript's checker is there: a type error is reported, not run.
      const wrong = await run(kernel, 'const n: number = "two";');
      assert.equal(wrong.status, "error");
      assert.match(wrong.text, /Type 'string' is not assignable to type 'number'/);
    } finally {
      await kernel.shutdown();
    }
  });

  it("is not used once a file it was made from changed, nor with LABBOOK_KERNEL_SNAPSHOT=0", () => {
    const { atimeMs, mtimeMs } = statSync(LAUNCHER_PATH);
    try {
      utimesSync(LAUNCHER_PATH, atimeMs / 1000, (mtimeMs + 5_000) / 1000);
      assert.match(snapshotProblem() ?? "", /launcher\.cjs changed since/);
      assert.deepEqual(snapshotArgs(), []);
    } finally {
      utimesSync(LAUNCHER_PATH, atimeMs / 1000, mtimeMs / 1000);
      // The time may not come back to the nanosecond: then the next start builds it again, as here.
      if (snapshotProblem()) assert.equal(ensureKernelSnapshot().problem, undefined);
    }
    assert.equal(snapshotProblem(), undefined);
    process.env.LABBOOK_KERNEL_SNAPSHOT = "0";
    try {
      assert.deepEqual(snapshotArgs(), []);
    } finally {
      delete process.env.LABBOOK_KERNEL_SNAPSHOT;
    }
  });
});
