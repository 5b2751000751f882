import assert from "node:assert/strict";
import { Cluster } from "../../runner/cluster/cluster.ts";
import { unmetRequirements } from "../../runner/run/requirements.ts";

/** A Cluster with only what unmetRequirements reads: its nodes and its description (name, backend, capabilities). */
function clusterWith(nodes: string[], capabilities: string[], backend = "netns"): Cluster {
  return Object.assign(Object.create(Cluster.prototype) as Cluster, { nodes: nodes.map((name) => ({ name })), description: { name: "c1", backend, capabilities } });
}

describe("a cell's requires", () => {
  it("is met when the cluster has every capability and node named", () => {
    assert.equal(unmetRequirements(clusterWith(["node1", "node2", "node3"], ["namespaces"]), ["namespaces", "node:node3"]), undefined);
    assert.equal(unmetRequirements(clusterWith(["node1"], []), []), undefined);
  });

  it("names the missing capability, and how to get it where the backend can offer it", () => {
    assert.equal(unmetRequirements(clusterWith(["node1"], ["namespaces"]), ["kubernetes"]), `needs kubernetes: cluster "c1" runs no Kubernetes: a notebook asks the netns backend for it in its metadata ("labbook": {"kubernetes": true})`);
    assert.equal(unmetRequirements(clusterWith(["node1"], ["vm"], "vagrant"), ["kubernetes"]), `needs kubernetes: the VMs of cluster "c1" run no Kubernetes: provision them with LABBOOK_KUBERNETES=1`);
    assert.equal(unmetRequirements(clusterWith(["node1"], ["vm"], "vagrant"), ["machine-root"]), "needs machine-root: the vagrant backend does not offer machine-root");
    assert.match(unmetRequirements(clusterWith(["node1"], ["vm"], "vagrant"), ["internet"])!, /^needs internet: the VMs of cluster "c1" have no stand-in internet: a plain `vagrant up` keeps Vagrant's own route out; "labbook up --backend vagrant" gives them one/);
    assert.equal(unmetRequirements(clusterWith(["node1"], ["namespaces", "internet"]), ["internet"]), undefined);
  });

  it("names the missing node and the cluster's size", () => {
    assert.equal(unmetRequirements(clusterWith(["node1", "node2"], ["vm"], "vagrant"), ["node:node3"]), "needs node3, which this 2-node cluster does not have");
  });

  it("gives both reasons when both are missing", () => {
    assert.equal(
      unmetRequirements(clusterWith(["node1"], []), ["kubernetes", "node:node2"]),
      `needs kubernetes: cluster "c1" runs no Kubernetes: a notebook asks the netns backend for it in its metadata ("labbook": {"kubernetes": true}); needs node2, which this 1-node cluster does not have`,
    );
  });
});
