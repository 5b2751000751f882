// `npm run bench -- --only=vagrant --vagrant-labs=FILE` reports the labs' times on VMs from an earlier run's
// results.json: it must take only a run on VMs, and say so before any VM starts.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { labTimesFrom, UP_RECORD } from "../../bench/vagrant.bench.ts";
import type { NotebookRunResult, RunSummary } from "../../runner/notebook/results.ts";

const run = (lab: string, backend: string, durationMs: number, passed = true, startedAt = "2026-12-03T17:14:00.000Z"): NotebookRunResult => ({
  notebook: `/checkout/labs/${lab}/${lab}.ipynb`,
  executedNotebook: `/out/${lab}.ipynb`,
  title: lab,
  backend,
  cluster: "vall",
  startedAt,
  durationMs,
  passed,
  cells: [],
});

describe("bench: the labs' times on VMs from an earlier run (--vagrant-labs)", () => {
  const dir = mkdtempSync(join(tmpdir(), "labbook-vagrant-labs-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, content: string) => {
    const file = join(dir, name);
    writeFileSync(file, content);
    return file;
  };
  const summary = (...notebooks: NotebookRunResult[]): string => JSON.stringify({ startedAt: "2026-12-03T17:14:00.000Z", durationMs: 1, notebooks } satisfies RunSummary);

  it("takes each lab's run, failed ones included, with the run's start", () => {
    const file = write("ok.json", summary(run("00-hello-cluster", "vagrant", 61_000), run("08-troubleshooting", "vagrant", 900_000, false)));
    const { runs, startedAt } = labTimesFrom(file);
    assert.equal(startedAt, "2026-12-03T17:14:00.000Z");
    assert.deepEqual([...runs.keys()], ["00-hello-cluster", "08-troubleshooting"]);
    assert.equal(runs.get("00-hello-cluster")!.durationMs, 61_000);
    assert.equal(runs.get("08-troubleshooting")!.passed, false);
  });

  it("takes the resets between labs from the gaps between notebooks, and the run's up from up.json beside it", () => {
    const sub = mkdtempSync(join(dir, "with-up-"));
    const file = join(sub, "results.json");
    // 00 runs 60 s from 17:14:00; a 100 s reset; 02 runs 30 s from 17:16:40; a 120 s reset; 03 from 17:19:10.
    writeFileSync(file, summary(run("00-hello-cluster", "vagrant", 60_000, true, "2026-12-03T17:14:00.000Z"), run("02-cross-host-routes", "vagrant", 30_000, true, "2026-12-03T17:16:40.000Z"), run("03-cni-by-hand", "vagrant", 5_000, true, "2026-12-03T17:19:10.000Z")));
    assert.deepEqual(labTimesFrom(file).betweenMs, [100_000, 120_000]);
    assert.equal(labTimesFrom(file).upMs, undefined, "no up.json: the bench makes its own up");
    writeFileSync(join(sub, UP_RECORD), JSON.stringify({ upMs: 812_000, exitCode: 0 }));
    assert.equal(labTimesFrom(file).upMs, 812_000);
    writeFileSync(join(sub, UP_RECORD), JSON.stringify({ upMs: 90_000, exitCode: 1 }));
    assert.throws(() => labTimesFrom(file), /up\.json records no successful up/);
  });

  it("refuses a run that was not on VMs, naming the notebook and its backend", () => {
    const file = write("netns.json", summary(run("00-hello-cluster", "vagrant", 61_000), run("02-cross-host-routes", "netns", 3_000)));
    assert.throws(() => labTimesFrom(file), /not every lab ran on VMs there: 02-cross-host-routes\.ipynb \(netns\)/);
  });

  it("refuses a file that is no results.json, or records no notebook, naming the file", () => {
    const garbled = write("garbled.json", "{ not json");
    assert.throws(() => labTimesFrom(garbled), (error: Error) => error.message.includes(garbled) && /not a results\.json/.test(error.message));
    assert.throws(() => labTimesFrom(join(dir, "missing.json")), /not a results\.json of labbook run/);
    assert.throws(() => labTimesFrom(write("empty.json", summary())), /records no notebook/);
  });
});
