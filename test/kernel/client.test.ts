// Starting kernels when many start at once: a port chosen free can be taken before tslab binds it,
// and tslab then hangs on the error. The client sees it at once and starts the kernel on new ports.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";
import { KernelClient } from "../../runner/kernel/client.ts";
import { newConnectionInfo } from "../../runner/kernel/connection.ts";

const LABS = fileURLToPath(new URL("../../labs/", import.meta.url));

describe("kernel start", function () {
  this.timeout(60_000);

  it("starts again on new ports when a chosen port was taken meanwhile, without waiting out the start timeout", async () => {
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const taken = (squatter.address() as { port: number }).port;
    let choices = 0;
    const started = Date.now();
    const kernel = await KernelClient.start({
      cwd: LABS,
      startTimeoutMs: 25_000,
      chooseConnection: async () => {
        choices++;
        const connection = await newConnectionInfo();
        return choices === 1 ? { ...connection, shell_port: taken } : connection;
      },
    });
    try {
      assert.equal(choices, 2, "the kernel was not started a second time");
      assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms: the taken port was not noticed`);
      await kernel.heartbeat();
    } finally {
      await kernel.shutdown();
      squatter.close();
    }
  });
});
