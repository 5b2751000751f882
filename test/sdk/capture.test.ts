// capture(): the window runs from the end of `during`, so a slow `during` (a loaded VM) still has its packet
// seen; a capture that sees nothing ends on time; and the node keeps no tcpdump behind.
import assert from "node:assert/strict";
import { capture } from "../../runner/sdk/capture.ts";
import { upTestCluster } from "../helpers/cluster.ts";

describe("the SDK's capture()", function () {
  this.timeout(60_000);
  const icmpEcho = { iface: "eth0", filter: "icmp[icmptype] = icmp-echo", seconds: 2 };

  it("sees a packet sent later than its window, counted from when `during` ends", async () => {
    const run = await upTestCluster();
    try {
      const node2 = run.node("node2");
      const packets = await capture(node2, icmpEcho, async () => {
        await new Promise((resolve) => setTimeout(resolve, 3_000)); // longer than the 2 s window
        await run.node("node1").$`ping -c1 -W2 192.168.0.12`;
      });
      assert.equal(packets.length, 1, `captured: ${packets.join("\n")}`);
      assert.match(packets[0]!, /192\.168\.0\.11 > 192\.168\.0\.12/);
    } finally {
      await run.down();
    }
  });

  it("with nothing to see, ends about its window after `during` and leaves no tcpdump running", async () => {
    const run = await upTestCluster();
    try {
      const node2 = run.node("node2");
      const started = Date.now();
      const packets = await capture(node2, icmpEcho, async () => {});
      const took = Date.now() - started;
      assert.deepEqual(packets, []);
      assert.ok(took >= 2_000 && took < 15_000, `took ${took} ms`);
      const left = await node2.$({ nothrow: true })`pgrep -x tcpdump`;
      assert.equal(left.stdout.trim(), "", "a tcpdump is still running on node2");
    } finally {
      await run.down();
    }
  });

  it("when `during` throws, stops the capture and passes the error on", async () => {
    const run = await upTestCluster();
    try {
      const node2 = run.node("node2");
      await assert.rejects(capture(node2, icmpEcho, async () => { throw new Error("the traffic step failed"); }), /the traffic step failed/);
      const left = await node2.$({ nothrow: true })`timeout 5 sh -c 'while pgrep -x tcpdump; do sleep 0.2; done'`;
      assert.equal(left.ok, true, `tcpdump still running on node2: ${left.stdout}`);
    } finally {
      await run.down();
    }
  });
});
