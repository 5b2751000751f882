// A lab that builds flannel's network and kube-proxy's chains by hand first defers the real ones
// (metadata.labbook.kubernetes.defer): the cluster comes up with neither, pods wait and no KUBE-* chain
// exists; once the lab starts them (kubernetesStart, `labbook-kubernetes PART` in each node) a pod runs and
// a Service answers.
import assert from "node:assert/strict";
import { kubernetesStart } from "../../runner/sdk/kubernetes.ts";
import { suiteCluster } from "../helpers/cluster.ts";

describe("Kubernetes with flanneld and kube-proxy deferred to the lab", function () {
  this.timeout(180_000);
  const cluster = suiteCluster({ kubernetes: { defer: ["flanneld", "kube-proxy"] } });

  it("comes up with neither, keeps pods waiting, and runs them once the lab starts both", async () => {
    const c = cluster();
    const node1 = c.node("node1");
    assert.deepEqual(c.description.kubernetes?.defer, ["flanneld", "kube-proxy"]);
    for (const node of c.nodes) {
      assert.equal((await node.run("pgrep -x kube-proxy || true")).stdout.trim(), "", `${node.name} runs kube-proxy`);
      assert.equal((await node.run("pgrep -x flanneld || true")).stdout.trim(), "", `${node.name} runs flanneld`);
      assert.equal((await node.run("iptables -t nat -S KUBE-SERVICES", { nothrow: true })).ok, false, `${node.name} has KUBE-SERVICES`);
    }
    assert.match(String(await node1.run("kubectl get nodes --no-headers")), /^node1\s+Ready/m);
    await node1.run("kubectl run early --image labbook/probe:1 --port 80");
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal(String(await node1.run("kubectl get pod early -o jsonpath={.status.phase}")), "Pending", "a pod ran before flanneld");

    await kubernetesStart(c, "flanneld");
    await kubernetesStart(c, "kube-proxy");
    await node1.run("kubectl wait --for=condition=Ready pod/early --timeout=60s");
    await node1.run("kubectl expose pod early --port 80");
    const ip = String(await node1.run("kubectl get service early -o jsonpath={.spec.clusterIP}")).trim();
    const answer = await node1.run(`for i in $(seq 50); do curl -s -m 1 http://${ip}/ && exit 0; sleep 0.2; done; exit 1`);
    assert.match(answer.stdout, /early/);
    for (const node of c.nodes) assert.ok((await node.run("iptables -t nat -S KUBE-SERVICES")).ok, `${node.name} has no KUBE-SERVICES after kube-proxy started`);
  });
});
