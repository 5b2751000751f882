import assert from "node:assert/strict";
import { pickBySeed } from "../../runner/sdk/seed.ts";

describe("pickBySeed", () => {
  const faults = ["a", "b", "c", "d", "e"];

  it("picks the same choice for the same seed and salt", () => {
    for (const seed of ["0", "1", "alice", "bob"]) assert.equal(pickBySeed(faults, "lab08", seed), pickBySeed(faults, "lab08", seed));
  });

  it("reaches every choice over a few seeds, so students get different variants", () => {
    const seen = new Set(Array.from({ length: 50 }, (_, i) => pickBySeed(faults, "lab08", String(i))));
    assert.deepEqual([...seen].sort(), faults);
  });

  it("refuses an empty list", () => assert.throws(() => pickBySeed([], "x", "0"), /nothing to choose/));
});
