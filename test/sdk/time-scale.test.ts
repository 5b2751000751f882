// Timing windows on slower nodes: a check's `within` is stretched by LABBOOK_TIME_SCALE (VMs under software
// emulation set it), and a bad value counts as 1.
import assert from "node:assert/strict";
import type { Node } from "../../runner/cluster/node.ts";
import { check } from "../../runner/sdk/check.ts";
import { reaches } from "../../runner/sdk/expect.ts";
import { DISPLAY_HOOK } from "../../runner/sdk/display.ts";
import { kvmUsable } from "../../runner/backend/vagrant/vm-host.ts";
import { scaledSeconds, TIME_SCALE_VARIABLE, timeScale } from "../../runner/sdk/time-scale.ts";
import type { CheckOutcome } from "../../runner/notebook/results.ts";
import { CHECK_MIME } from "../../runner/notebook/types.ts";

describe("the SDK's time scale", () => {
  const saved = process.env[TIME_SCALE_VARIABLE];
  const outcomes: CheckOutcome[] = [];
  before(() => {
    (globalThis as Record<symbol, unknown>)[DISPLAY_HOOK] = (content: { data: Record<string, unknown> }) => outcomes.push(content.data[CHECK_MIME] as CheckOutcome);
  });
  after(() => {
    delete (globalThis as Record<symbol, unknown>)[DISPLAY_HOOK];
    if (saved === undefined) delete process.env[TIME_SCALE_VARIABLE];
    else process.env[TIME_SCALE_VARIABLE] = saved;
  });

  it("is 1 unless set to a number of at least 1", () => {
    for (const bad of [undefined, "", "abc", "0.5", "-2"]) {
      if (bad === undefined) delete process.env[TIME_SCALE_VARIABLE];
      else process.env[TIME_SCALE_VARIABLE] = bad;
      assert.equal(timeScale(), 1, String(bad));
    }
    process.env[TIME_SCALE_VARIABLE] = "4";
    assert.equal(timeScale(), 4);
  });

  it("without LABBOOK_TIME_SCALE, asks the backend the kernel runs on (a kernel Jupyter started by itself)", () => {
    const savedBackend = process.env.LABBOOK_BACKEND;
    delete process.env[TIME_SCALE_VARIABLE];
    try {
      process.env.LABBOOK_BACKEND = "vagrant";
      assert.equal(timeScale(), kvmUsable() ? 1 : 4);
      process.env.LABBOOK_BACKEND = "netns";
      assert.equal(timeScale(), 1);
    } finally {
      if (savedBackend === undefined) delete process.env.LABBOOK_BACKEND;
      else process.env.LABBOOK_BACKEND = savedBackend;
    }
  });

  it("stretches reaches()'s wait for an answer: ping's -W and the TCP probe's limit", async () => {
    const seen: Array<{ command: string; timeout?: number }> = [];
    const from = {
      name: "node2",
      $: (options: { timeout?: number }) => (pieces: TemplateStringsArray, ...values: unknown[]) => {
        seen.push({ command: pieces.reduce((all, piece, i) => all + piece + (i < values.length ? String(values[i]) : ""), ""), ...(options.timeout === undefined ? {} : { timeout: options.timeout }) });
        return Promise.resolve({ ok: true, stdout: "HTTP/1.0 200 OK\n", stderr: "", timedOut: false });
      },
    } as unknown as Node;
    process.env[TIME_SCALE_VARIABLE] = "4";
    await reaches(from, "192.168.0.11");
    await reaches(from, "192.168.0.11", { port: 80, http: "/" });
    await reaches(from, "192.168.0.11", { port: 80, timeout: 0.5 });
    assert.match(seen[0]!.command, /^ping -c1 -W8 192\.168\.0\.11$/);
    assert.equal(seen[1]!.timeout, 8000);
    assert.equal(seen[2]!.timeout, 2000);
    process.env[TIME_SCALE_VARIABLE] = "1";
    await reaches(from, "192.168.0.11", { port: 80 });
    assert.equal(seen[3]!.timeout, 2000);
  });

  it("stretches a command's own time limit, in whole seconds as kubectl takes it", () => {
    process.env[TIME_SCALE_VARIABLE] = "1";
    assert.equal(scaledSeconds(60), "60s");
    process.env[TIME_SCALE_VARIABLE] = "4";
    assert.equal(scaledSeconds(60), "240s");
    process.env[TIME_SCALE_VARIABLE] = "2.5";
    assert.equal(scaledSeconds(15), "38s");
  });

  it("stretches a check's `within`: a probe that passes after 350 ms passes within 150 ms x 4, not x 1", async () => {
    const passingAfter = (ms: number) => {
      const start = Date.now();
      return () => {
        if (Date.now() - start < ms) throw new Error("not yet");
        return "now";
      };
    };
    process.env[TIME_SCALE_VARIABLE] = "1";
    await check("unscaled", passingAfter(350), { within: 150, every: 20 });
    process.env[TIME_SCALE_VARIABLE] = "4";
    await check("scaled", passingAfter(350), { within: 150, every: 20 });
    assert.deepEqual(outcomes.map((o) => [o.name, o.passed]), [["unscaled", false], ["scaled", true]]);
  });
});
