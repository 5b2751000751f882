// cluster({ fresh: true }) in Jupyter (no LABBOOK_CLUSTER): the shared cluster is rebuilt, so
// what an earlier lab built is gone; headless, the run's own cluster is kept as it is.
import assert from "node:assert/strict";
import { CLUSTER_VARIABLE, cluster, ensureMachineRoot } from "../../runner/sdk/current-cluster.ts";
import { upTestCluster } from "../helpers/cluster.ts";

describe("the SDK's cluster()", function () {
  this.timeout(60_000);
  const saved = process.env[CLUSTER_VARIABLE];
  afterEach(() => {
    if (saved === undefined) delete process.env[CLUSTER_VARIABLE];
    else process.env[CLUSTER_VARIABLE] = saved;
  });

  // The headless case first: cluster() keeps one cluster per process, as a kernel does.
  it("with fresh: true in a headless run, keeps the run's cluster", async () => {
    const run = await upTestCluster();
    try {
      process.env[CLUSTER_VARIABLE] = run.name;
      await run.node("node1").$`ip link add marker0 type bridge`;
      const attached = await cluster({ fresh: true });
      assert.equal(attached.name, run.name);
      assert.equal((await attached.node("node1").$({ nothrow: true })`ip link show marker0`).ok, true);
      attached.close();
    } finally {
      await run.down();
    }
  });

  it("with fresh: true and no assigned cluster, rebuilds the shared one: earlier state is gone", async () => {
    delete process.env[CLUSTER_VARIABLE];
    const first = await cluster({ fresh: true });
    await first.node("node1").$`ip link add docker0 type bridge`;
    const second = await cluster({ fresh: true });
    const link = await second.node("node1").$({ nothrow: true })`ip link show docker0`;
    assert.equal(link.ok, false, "docker0 survived the rebuild");
    assert.equal(await cluster(), second, "a later plain cluster() returns the same cluster");
    await second.down();
  });

  it("with privileged in Jupyter, rebuilds the shared cluster with privileged nodes", async () => {
    delete process.env[CLUSTER_VARIABLE];
    const rebuilt = await cluster({ fresh: true, privileged: "the test's GlusterFS stand-in" });
    try {
      assert.equal(rebuilt.has("machine-root"), true);
      const plain = await cluster({ fresh: true });
      assert.equal(plain.has("machine-root"), false, "a later lab's fresh cluster kept privileged nodes");
    } finally {
      await (await cluster()).down();
    }
  });

  it("with privileged, refuses a fenced cluster to a lab that needs root of the machine, naming what to declare", async () => {
    const fenced = await upTestCluster();
    try {
      assert.throws(() => ensureMachineRoot(fenced, "GlusterFS"), /has fenced nodes, but this lab needs root of the machine in them \(GlusterFS\); give the notebook metadata\.labbook\.privileged/);
    } finally {
      await fenced.down();
    }
  });
});
