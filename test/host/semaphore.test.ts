import assert from "node:assert/strict";
import { Semaphore } from "../../runner/host/semaphore.ts";

describe("semaphore", () => {
  it("admits at most N holders and hands over in order", async () => {
    const semaphore = new Semaphore(2);
    const order: number[] = [];
    let active = 0;
    let peak = 0;
    await Promise.all(
      [1, 2, 3, 4, 5].map(async (i) => {
        const release = await semaphore.acquire();
        active++;
        peak = Math.max(peak, active);
        order.push(i);
        await new Promise((resolve) => setTimeout(resolve, 5));
        active--;
        release();
        release(); // a second release must not free a second slot
      }),
    );
    assert.equal(peak, 2);
    assert.deepEqual(order, [1, 2, 3, 4, 5]);
  });
});
