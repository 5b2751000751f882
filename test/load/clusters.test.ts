// Load (npm run test:load): 20 clusters up at once on this machine, each running lab 00 in a kernel of its
// own, with no cross-talk: every cluster uses the same addresses, and what one writes only its own
// nodes can read. Then a ramp: more clusters at once, in steps, until the machine's limit, which must
// show as a clear refusal, never as a hang. Prints the times and the peak memory.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { usedMemoryMb, withPeakMemory } from "../helpers/memory.ts";
import { NetnsBackend } from "../../runner/backend/netns/driver.ts";
import { Cluster } from "../../runner/cluster/cluster.ts";
import { runNotebooks } from "../../runner/run/run-notebooks.ts";
import { snapshotHost } from "../helpers/host-snapshot.ts";
import { uniqueClusterName } from "../helpers/cluster.ts";

const LAB_00 = fileURLToPath(new URL("../../labs/00-hello-cluster/00-hello-cluster.ipynb", import.meta.url));
const backend = new NetnsBackend();

describe("load", function () {
  this.timeout(30 * 60_000);
  const out = mkdtempSync(join(tmpdir(), "labbook-load-"));
  const before = snapshotHost();
  after(async () => {
    await backend.downAll();
    rmSync(out, { recursive: true, force: true });
  });

  it("runs lab 00 on 20 clusters at once, each with its own kernel", async () => {
    const started = performance.now();
    const { result: summary, peakMb, baseMb } = await withPeakMemory(() => runNotebooks(Array(20).fill(LAB_00), { backend, timeoutS: 600, keepGoing: true, outDir: out, reporter: {}, jobs: 20 }));
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`      20 × lab 00 at once: ${seconds.toFixed(1)} s, peak memory ${peakMb} MB used (${baseMb} MB before)\n`);
    const failed = summary.notebooks.filter((n) => !n.passed).map((n) => n.infrastructureError ?? n.cells.filter((c) => c.status !== "passed").map((c) => `${c.id}: ${c.error?.message ?? c.status}`).join("; "));
    assert.deepEqual(failed, []);
  });

  it("keeps 20 clusters apart: same addresses, no cross-talk", async () => {
    const clusters = await Promise.all(Array.from({ length: 20 }, () => Cluster.up({ backend, name: uniqueClusterName("load") })));
    try {
      await Promise.all(clusters.map((c) => c.node("node2").$`echo ${c.name} > /tmp/who && hostname > /tmp/host`));
      const seen = await Promise.all(clusters.map(async (c) => String(await c.node("node1").$`ssh -o BatchMode=yes 192.168.0.12 cat /tmp/who`)));
      assert.deepEqual(seen, clusters.map((c) => c.name));
      // A LAN sees only its own three nodes: an ARP scan of the whole /24 from one node.
      const neighbours = String(await clusters[7]!.node("node1").$`for i in $(seq 1 30); do ping -c1 -W1 192.168.0.$i >/dev/null 2>&1 & done; wait; ip -4 neigh show dev eth0 | grep lladdr | awk '{print $1}' | sort`);
      assert.deepEqual(neighbours.split("\n").filter(Boolean), ["192.168.0.1", "192.168.0.12", "192.168.0.13"], "a node's ARP scan of its /24 answers");
    } finally {
      await Promise.all(clusters.map((c) => c.down()));
    }
  });

  it("finds the limit by ramping up clusters at once; a refusal is a clear error, never a hang", async () => {
    const steps = [20, 40, 80, 120, 160, 200];
    const lines: string[] = [];
    for (const count of steps) {
      const started = performance.now();
      const { result: outcomes, peakMb } = await withPeakMemory(() => Promise.allSettled(Array.from({ length: count }, () => Cluster.up({ backend, name: uniqueClusterName("ramp") }))));
      const up = outcomes.filter((o): o is PromiseFulfilledResult<Cluster> => o.status === "fulfilled").map((o) => o.value);
      const errors = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected").map((o) => (o.reason as Error).message);
      lines.push(`${count} at once: ${up.length} up in ${((performance.now() - started) / 1000).toFixed(1)} s, peak ${peakMb} MB${errors.length ? `, ${errors.length} refused: ${[...new Set(errors)].slice(0, 2).join(" | ")}` : ""}`);
      for (const message of errors) assert.ok(message.length > 0 && !/^undefined|\[object/.test(message), message);
      await Promise.all(up.map((c) => c.down()));
      if (errors.length > 0) break;
    }
    process.stdout.write(lines.map((l) => `      ${l}\n`).join(""));
    assert.deepEqual(snapshotHost(), before);
  });
});
