// tslab started its receive loops before binding its sockets. A client that connected early (Jupyter's
// and labbook's both do) could deliver a message while zeromq still counted a socket as binding; the
// loop's next receive() then threw EBUSY, unhandled, and the kernel never answered (a CI run of
// nbconvert hit it). Each case runs tslab's server in a child process: the fixes patch zeromq
// for the whole process, and this one's kernel clients must keep the library's own behaviour.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { KernelClient } from "../../runner/kernel/client.ts";
import type { Message } from "../../runner/kernel/wire.ts";

const FIXTURE = fileURLToPath(new URL("./fixtures/kernel-init-order.cjs", import.meta.url));

interface InitOrder {
  initialized: boolean;
  initError: string | null;
  echoed: boolean;
  receivesBeforeBound: string[];
  loopFailure: string | null;
}

async function initOrder(variant: "fixed" | "tslab"): Promise<InitOrder> {
  const { stdout } = await promisify(execFile)(process.execPath, [FIXTURE, variant], { timeout: 20_000 });
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as InitOrder;
}

describe("tslab fixes: the kernel binds before it receives", function () {
  this.timeout(60_000);

  it("calls receive() on no socket before that socket is bound, where tslab alone does", async () => {
    const fixed = await initOrder("fixed");
    assert.deepEqual(fixed, { initialized: true, initError: null, echoed: true, receivesBeforeBound: [], loopFailure: null });
    const tslab = await initOrder("tslab");
    assert.ok(tslab.receivesBeforeBound.length > 0, "the control: tslab's own init receives before binding");
  });

  it("answers clients that connected before it started, 20 starts out of 20", async () => {
    // One at a time: starts in parallel could choose the same free port.
    for (let start = 1; start <= 20; start++) {
      const result = await initOrder("fixed");
      assert.ok(result.initialized && result.echoed && result.loopFailure === null, `start ${start}: ${JSON.stringify(result)}`);
    }
  });
});

describe("tslab fixes: a shorthand property names an earlier cell's variable", function () {
  this.timeout(60_000);

  for (const warm of [true, false]) {
    it(`works in a kernel ${warm ? "from the warm snapshot" : "started the usual way"} (tslab alone: "port is not defined")`, async () => {
      const saved = process.env.LABBOOK_KERNEL_SNAPSHOT;
      process.env.LABBOOK_KERNEL_SNAPSHOT = warm ? "1" : "0";
      const kernel = await KernelClient.start({ cwd: fileURLToPath(new URL("../../labs/", import.meta.url)) });
      try {
        if (saved === undefined) delete process.env.LABBOOK_KERNEL_SNAPSHOT;
        else process.env.LABBOOK_KERNEL_SNAPSHOT = saved;
        let text = "";
        const collect = (message: Message) => {
          const content = message.content as { text?: string; evalue?: string };
          text += content.text ?? content.evalue ?? "";
        };
        assert.equal((await kernel.execute('const port = 8080;\nconst host = "node1";', collect)).status, "ok");
        const reply = await kernel.execute("const o = { port, host, other: 1 };\nconsole.log(JSON.stringify(o));", collect);
        assert.equal(reply.status, "ok", text);
        assert.equal(text, '{"port":8080,"host":"node1","other":1}\n');
      } finally {
        await kernel.shutdown();
      }
    });
  }
});

describe("tslab fixes: TypeScript's plain builder, with a cell's dependencies found when asked", function () {
  this.timeout(120_000);
  let folder: string;

  before(() => {
    // A notebook's folder inside the checkout (so "labbook" resolves), with helpers that import each other.
    const root = fileURLToPath(new URL("../../test-output/kernel/", import.meta.url));
    mkdirSync(root, { recursive: true });
    folder = mkdtempSync(join(root, "deps-"));
    writeFileSync(join(folder, "outer.ts"), 'import { inner } from "./inner.js";\nexport const outer = (n: number): string => `outer(${inner(n)})`;\n');
    writeFileSync(join(folder, "inner.ts"), "export function inner(n: number): number {\n  return n + 1;\n}\n");
    writeFileSync(join(folder, "broken.ts"), 'import { inner } from "./inner.js";\nexport const broken: string = inner(1);\n');
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  for (const warm of [true, false]) {
    it(`emits and checks what a cell reaches through local modules, in a kernel ${warm ? "from the warm snapshot" : "started the usual way"}`, async () => {
      const saved = process.env.LABBOOK_KERNEL_SNAPSHOT;
      process.env.LABBOOK_KERNEL_SNAPSHOT = warm ? "1" : "0";
      const kernel = await KernelClient.start({ cwd: folder });
      if (saved === undefined) delete process.env.LABBOOK_KERNEL_SNAPSHOT;
      else process.env.LABBOOK_KERNEL_SNAPSHOT = saved;
      const run = async (code: string) => {
        let text = "";
        const reply = await kernel.execute(code, (message: Message) => {
          const content = message.content as { text?: string; evalue?: string };
          text += content.text ?? content.evalue ?? "";
        });
        return { status: reply.status, text };
      };
      try {
        // inner.ts is reached only through outer.ts: both must be emitted for require() to find them.
        assert.deepEqual(await run('import { outer } from "./outer.js";\nconsole.log(outer(1));'), { status: "ok", text: "outer(2)\n" });
        // A cell with no import is a script: it depends on everything, and still runs.
        assert.deepEqual(await run("const twice: number = 2 * 21;\nconsole.log(twice);"), { status: "ok", text: "42\n" });
        // A dependency's type error is reported at the cell that imports it, as with tslab's own builder.
        const broken = await run('import { broken } from "./broken.js";\nconsole.log(broken);');
        assert.equal(broken.status, "error");
        assert.match(broken.text, /broken\.ts.*Type 'number' is not assignable to type 'string'/s);
        // tslab aborts what comes within 200 ms of an error (the runner waits too: kernel-session.ts).
        await new Promise((resolve) => setTimeout(resolve, 400));
        // So is the cell's own; and a type declared in one cell is known in the next.
        assert.equal((await run('const wrong: number = "x";')).status, "error");
        await new Promise((resolve) => setTimeout(resolve, 400));
        assert.deepEqual(await run("interface Pair {\n  left: number;\n  right: number;\n}"), { status: "ok", text: "" });
        assert.deepEqual(await run("const pair: Pair = { left: 1, right: 2 };\nconsole.log(pair.left + pair.right);"), { status: "ok", text: "3\n" });
      } finally {
        await kernel.shutdown();
      }
    });
  }
});

describe("tslab fixes: a kernel outside the checkout gets the checkout's Node types", function () {
  this.timeout(60_000);

  // tslab's own fallback is its copy of @types/node 18, which lacks util.styleText (Node 20.12); the checkout's
  // @types/node 20 has it, and is the copy the warm snapshot holds parsed. A grader's staged lab sits in /tmp.
  it("types util.styleText from @types/node 20 in a folder with no node_modules/@types above it", async () => {
    const folder = mkdtempSync(join(tmpdir(), "labbook-outside-"));
    const kernel = await KernelClient.start({ cwd: folder });
    try {
      let text = "";
      const reply = await kernel.execute('import { styleText } from "node:util";\nconsole.log(typeof styleText);', (message: Message) => {
        const content = message.content as { text?: string; evalue?: string };
        text += content.text ?? content.evalue ?? "";
      });
      assert.deepEqual({ status: reply.status, text }, { status: "ok", text: "function\n" });
    } finally {
      await kernel.shutdown();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
