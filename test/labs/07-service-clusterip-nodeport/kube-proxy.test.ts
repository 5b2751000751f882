// curlTally: the answers of a batch of requests, and the sender's retransmitted TCP segments, which let a
// lab tell a DNAT counter raised by a retransmitted SYN from a wrong one.
import assert from "node:assert/strict";
import { NetnsBackend } from "../../../runner/backend/netns/driver.ts";
import { curlTally, portProtoHash, printedProbabilities } from "../../../labs/07-service-clusterip-nodeport/kube-proxy.ts";
import { suiteCluster } from "../../helpers/cluster.ts";

describe("the SDK's curlTally", function () {
  this.timeout(60_000);
  const cluster = suiteCluster({ backend: new NetnsBackend() });

  before(async () => {
    const node2 = cluster().node("node2");
    await node2.$`mkdir -p /tmp/www && echo node2 > /tmp/www/index.html`;
    await node2.$`setsid -f python3 -m http.server 80 --directory /tmp/www > /dev/null 2>&1`;
    await node2.$`for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1/ && exit 0; sleep 0.1; done; exit 1`;
  });

  it("tallies the answers, each request a connection of its own", async () => {
    const tally = await curlTally(cluster().node("node1"), "http://192.168.0.12/", 10, { show: false });
    assert.deepEqual([...tally.answers], [["node2", 10]]);
    assert.equal(tally.failed, 0);
    // Usually 0; a loaded machine may drop a packet, which is what the count is for.
    assert.ok(Number.isInteger(tally.retransmitted) && tally.retransmitted >= 0, `retransmitted: ${tally.retransmitted}`);
  });

  it("counts the SYNs the sender had to send again", async () => {
    const node2 = cluster().node("node2");
    // The first SYN is dropped; the rule is gone before its retransmission, a second later, which gets through.
    await node2.$`iptables -I INPUT -p tcp --dport 80 --syn -j DROP`;
    const tallied = curlTally(cluster().node("node1"), "http://192.168.0.12/", 1, { show: false, timeout: 5 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await node2.$`iptables -D INPUT -p tcp --dport 80 --syn -j DROP`;
    const tally = await tallied;
    assert.equal(tally.failed, 0, "the retransmitted SYN should have got through");
    assert.ok(tally.retransmitted >= 1, `retransmitted: ${tally.retransmitted}`);
  });
});

describe("lab 07's kube-proxy names and numbers", () => {
  it("hashes a Service's port as kube-proxy 1.35 does (as seen on the embedded cluster)", () => {
    assert.equal(portProtoHash("default/helloworld", "tcp"), "QXYTVW6YPQO5NGWP");
    assert.equal(portProtoHash("default/helloworld", "tcp", "10.244.1.2:80"), "46XJ3ECM2EQM6YDI");
    assert.equal(portProtoHash("default/helloworld:", "tcp"), "2WB5SOAIQNMPIUJO"); // the lesson's
  });

  it("prints the probabilities as iptables prints kube-proxy's back", () => {
    assert.deepEqual(printedProbabilities(1), []);
    assert.deepEqual(printedProbabilities(2), ["0.50000000000"]);
    assert.deepEqual(printedProbabilities(3), ["0.33333333349", "0.50000000000"]);
  });
});
