// runPod: a pod's mounts exist only in its own mount namespace, bad specs are refused with the
// pod's name, and pods die with their node.
import assert from "node:assert/strict";
import { readdirSync, readlinkSync } from "node:fs";
import { readState } from "../../../runner/host/state.ts";
import { findPod, runPod } from "../../../labs/09-volumes/pods.ts";
import { upTestCluster } from "../../helpers/cluster.ts";

describe("the SDK's pods", function () {
  this.timeout(60_000);

  it("mounts volumes in the pod's namespace only, refuses bad specs by name, and dies with the cluster", async () => {
    const cluster = await upTestCluster();
    const node1 = cluster.node("node1");
    const nodePidNamespace = readlinkSync(`/proc/${readState(cluster.name)!.nodes.node1!.pid}/ns/pid`);
    const inNode1 = () => readdirSync("/proc").filter((pid) => /^\d+$/.test(pid) && (() => { try { return readlinkSync(`/proc/${pid}/ns/pid`) === nodePidNamespace; } catch { return false; } })());
    try {
      const pod = await runPod(node1, { name: "p1", volumes: [{ name: "v", emptyDir: {} }], volumeMounts: [{ name: "v", mountPath: "/v", readOnly: true }] });
      assert.match((await pod.exec("touch /v/x")).stderr, /Read-only file system/);
      assert.equal((await node1.$({ nothrow: true })`grep -c ' /v ' /proc/self/mountinfo`).stdout.trim(), "0", "the node sees the pod's mount");
      assert.equal((await findPod(node1, "p1")).pid, pod.pid);
      await assert.rejects(runPod(node1, { name: "p2", volumes: [], volumeMounts: [{ name: "missing", mountPath: "/m" }] }), /pod p2: volumeMount "missing" names no volume/);
      await assert.rejects(runPod(node1, { name: "Bad_Name", volumes: [], volumeMounts: [] }), /pod name "Bad_Name"/);
      await pod.delete();
      await assert.rejects(findPod(node1, "p1"), /no pod "p1" is running on node1/);
      const survivor = await runPod(node1, { name: "p3", volumes: [], volumeMounts: [] });
      assert.ok(inNode1().length > 0 && (await node1.$({ nothrow: true })`kill -0 ${survivor.pid}`).ok);
    } finally {
      await cluster.down();
    }
    assert.deepEqual(inNode1(), [], "a process of node1 (the pod p3 among them) outlived the cluster");
  });
});
