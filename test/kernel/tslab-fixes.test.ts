// tslab started its receive loops before binding its sockets. A client that connected early (Jupyter's
// and labbook's both do) could deliver a message while zeromq still counted a socket as binding; the
// loop's next receive() then threw EBUSY, unhandled, and the kernel never answered (a CI run of
// nbconvert hit it). Each case runs tslab's server in a child process: the fixes patch zeromq
// for the whole process, and this one's kernel clients must keep the library's own behaviour.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

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
