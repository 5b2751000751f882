// Lab 08's break-fix: for every fault in the catalogue, a seed that selects it runs the whole lab
// (inject, the checklist, the instructor's solution, hidden checks) and passes, and the checklist
// run right after the injection (the same probes the hidden check uses) fails exactly the steps the
// catalogue says the fault breaks: each fault is real and the hidden check sees it. The emptied-
// solution run for the default seed is in negative-controls.test.ts.
// The faults are on the lab's real Kubernetes cluster (its second part): each run starts one, two at a time
// when the machine's inotify instances have room for both (the backend waits for room otherwise).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { TROUBLESHOOTING_FAULTS, faultForSeed, type Fault } from "../../../labs/08-troubleshooting/faults.ts";
import type { Cluster } from "../../../runner/cluster/cluster.ts";
import type { NotebookRunResult } from "../../../runner/notebook/results.ts";
import { readNotebook } from "../../../runner/notebook/read.ts";
import { sourceText } from "../../../runner/notebook/types.ts";
import { pooled, runHeadless } from "../../helpers/run.ts";

const LAB = fileURLToPath(new URL("../../../labs/08-troubleshooting/08-troubleshooting.ipynb", import.meta.url));

/** The first of "0", "1", ... that makes the lab inject `fault`. */
function seedFor(fault: Fault): string {
  for (let i = 0; i < 10_000; i++) if (faultForSeed(String(i)).id === fault.id) return String(i);
  throw new Error(`no seed below 10000 selects ${fault.id}`);
}

/** The step numbers a checklist cell printed as failed ("✗ 2. cross-host pod ..."). */
function failedChecklistSteps(executed: string, cellId: string): number[] {
  const cell = readNotebook(executed).cells.find((c) => c.id === cellId);
  const text = cell?.cell_type === "code" ? cell.outputs.map((o) => (o.output_type === "stream" ? sourceText(o.text) : "")).join("") : "";
  return [...text.matchAll(/^✗ (\d)\. /gm)].map((m) => Number(m[1]));
}

function problems(result: NotebookRunResult): string[] {
  return result.cells
    .filter((c) => c.status !== "passed" && c.status !== "not-run")
    .map((c) => `${c.id}: ${c.status} ${c.error?.message ?? c.skipReason ?? c.checks.filter((k) => !k.passed).map((k) => `${k.name}: ${k.message}`).join("; ")}`);
}

describe("lab 08 break-fix faults", function () {
  this.timeout(600_000);

  it("has at least 4 faults, with distinct ids, each selected by some seed", () => {
    assert.ok(TROUBLESHOOTING_FAULTS.length >= 4);
    assert.equal(new Set(TROUBLESHOOTING_FAULTS.map((f) => f.id)).size, TROUBLESHOOTING_FAULTS.length);
    for (const fault of TROUBLESHOOTING_FAULTS) assert.equal(faultForSeed(seedFor(fault)).id, fault.id);
  });

  it("on a cluster without the stand-in internet, picks only faults that show elsewhere than egress", () => {
    const noInternet = { has: (capability: string) => capability !== "internet" } as unknown as Cluster;
    const picked = new Set(Array.from({ length: 200 }, (_, i) => faultForSeed(String(i), noInternet).id));
    const egressOnly = TROUBLESHOOTING_FAULTS.filter((f) => f.breaks.every((step) => step === 6)).map((f) => f.id);
    assert.ok(egressOnly.length > 0, "the catalogue has a fault only egress shows");
    for (const id of egressOnly) assert.equal(picked.has(id), false, `${id} picked on a cluster where it cannot be seen`);
    assert.equal(picked.size, TROUBLESHOOTING_FAULTS.length - egressOnly.length);
  });

  const run = pooled(TROUBLESHOOTING_FAULTS.map((fault) => [fault.id, () => runHeadless(LAB, { keepGoing: true, timeoutS: 120, seed: seedFor(fault), isolateHidden: true })]));
  for (const fault of TROUBLESHOOTING_FAULTS) {
    it(`${fault.id}: the checklist fails steps ${fault.breaks.join(", ")}; the solution repairs it and every cell passes`, async () => {
      const result = await run(fault.id);
      assert.deepEqual(problems(result), []);
      assert.equal(result.passed, true);
      assert.deepEqual(failedChecklistSteps(result.executedNotebook, "diagnose"), [...fault.breaks]);
    });
  }
});
