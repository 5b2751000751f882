import assert from "node:assert/strict";
import type { Cluster } from "../../runner/cluster/cluster.ts";
import { unmetRequirements } from "../../runner/run/requirements.ts";

/** Only what unmetRequirements reads: the nodes, the capabilities and the backend's name. */
function clusterWith(nodes: string[], capabilities: string[], backend = "netns"): Cluster {
  return { nodes: nodes.map((name) => ({ name })), has: (c: string) => capabilities.includes(c), backend: { name: backend } } as unknown as Cluster;
}

describe("a cell's requires", () => {
  it("is met when the cluster has every capability and node named", () => {
    assert.equal(unmetRequirements(clusterWith(["node1", "node2", "node3"], ["namespaces"]), ["namespaces", "node:node3"]), undefined);
    assert.equal(unmetRequirements(clusterWith(["node1"], []), []), undefined);
  });

  it("names the missing capability and the backend", () => {
    assert.equal(unmetRequirements(clusterWith(["node1"], ["namespaces"]), ["kubernetes"]), "needs kubernetes, which the netns backend does not offer");
  });

  it("names the missing node and the cluster's size", () => {
    assert.equal(unmetRequirements(clusterWith(["node1", "node2"], ["vm"], "vagrant"), ["node:node3"]), "needs node3, which this 2-node cluster does not have");
  });

  it("gives both reasons when both are missing", () => {
    assert.equal(
      unmetRequirements(clusterWith(["node1"], []), ["kubernetes", "node:node2"]),
      "needs kubernetes, which the netns backend does not offer; needs node2, which this 1-node cluster does not have",
    );
  });
});
