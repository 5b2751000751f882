import assert from "node:assert/strict";
import { TopologyError } from "../../runner/topology/errors.ts";
import { DEFAULT_TOPOLOGY_PATH, loadTopology, parseTopology } from "../../runner/topology/load.ts";
import { withNodeCount } from "../../runner/topology/validate.ts";

const VALID = `network:
  cidr: 192.168.0.0/24
  gateway: 192.168.0.1
nodes:
  - name: node1
    ip: 192.168.0.11
  - name: node2
    ip: 192.168.0.12
`;

function problemsOf(text: string): string[] {
  try {
    parseTopology(text, "bad.yaml");
  } catch (error) {
    assert.ok(error instanceof TopologyError, `expected a TopologyError, got ${String(error)}`);
    return error.problems.map((p) => `${p.line}:${p.path}: ${p.message}`);
  }
  assert.fail("the topology was accepted");
}

describe("topology", () => {
  it("reads infra/cluster.yaml with the documented defaults", () => {
    const topology = loadTopology();
    assert.equal(topology.source, DEFAULT_TOPOLOGY_PATH);
    assert.deepEqual(topology.network, { cidr: "192.168.0.0/24", gateway: "192.168.0.1", prefix: 24, internet: "203.0.113.10" });
    assert.deepEqual(
      topology.nodes.map((n) => [n.name, n.ip]),
      [["node1", "192.168.0.11"], ["node2", "192.168.0.12"], ["node3", "192.168.0.13"]],
    );
  });

  it("fills optional fields", () => {
    const node = parseTopology(VALID, "ok.yaml").nodes[0]!;
    assert.deepEqual(node, { name: "node1", ip: "192.168.0.11", roles: [], memory: 1024, cpus: 1 });
  });

  it("names the field and the line of an unknown field", () => {
    assert.deepEqual(problemsOf(VALID.replace("    ip: 192.168.0.12\n", "    ip: 192.168.0.12\n    colour: red\n")), [
      `9:nodes.1.colour: unknown field "colour"`,
    ]);
  });

  it("names the line of a missing field", () => {
    assert.deepEqual(problemsOf(VALID.replace("    ip: 192.168.0.12\n", "")), [`7:nodes.1: missing field "ip"`]);
  });

  it("rejects addresses outside the network, duplicates, and the gateway's address", () => {
    const text = VALID.replace("192.168.0.11", "192.168.1.11").replace("name: node2\n    ip: 192.168.0.12", "name: node1\n    ip: 192.168.0.1");
    assert.deepEqual(problemsOf(text), [
      "6:nodes.0.ip: 192.168.1.11 is not a host address in 192.168.0.0/24",
      '7:nodes.1.name: "node1" is already the name of nodes.0',
      "8:nodes.1.ip: 192.168.0.1 is the gateway's address",
    ]);
  });

  it("accepts only private networks", () => {
    assert.deepEqual(problemsOf(VALID.replaceAll("192.168.0.", "8.8.8.")), ["2:network.cidr: 8.8.8.0/24 is not a private (RFC 1918) range"]);
  });

  it("accepts a stand-in internet only at a documentation address (RFC 5737)", () => {
    const withInternet = (address: string) => VALID.replace("  gateway: 192.168.0.1\n", `  gateway: 192.168.0.1\n  internet: ${address}\n`);
    assert.equal(parseTopology(withInternet("198.51.100.7"), "ok.yaml").network.internet, "198.51.100.7");
    assert.deepEqual(problemsOf(withInternet("8.8.8.8")), ["4:network.internet: 8.8.8.8 is not in a documentation range (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24)"]);
    assert.deepEqual(problemsOf(withInternet("10.0.0.1")), ["4:network.internet: 10.0.0.1 is not in a documentation range (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24)"]);
  });

  it("rejects node names that cannot become interface names", () => {
    const [problem] = problemsOf(VALID.replace("node2", "Node-With-A-Long-Name"));
    assert.match(problem!, /^7:nodes\.1\.name: must be lower case/);
  });

  it("reports YAML syntax errors with their line", () => {
    assert.match(problemsOf("network:\n  cidr: [\nnodes: 1\n")[0]!, /^3:/);
  });

  it("reports an unreadable file by path", () => {
    assert.throws(() => loadTopology("/nonexistent/cluster.yaml"), /cannot read topology \/nonexistent\/cluster\.yaml/);
  });

  it("takes the first N nodes, and derives more past the end", () => {
    const base = loadTopology();
    assert.deepEqual(withNodeCount(base, 2).nodes.map((n) => n.name), ["node1", "node2"]);
    assert.deepEqual(withNodeCount(base, 5).nodes.slice(3).map((n) => `${n.name}@${n.ip}`), ["node4@192.168.0.14", "node5@192.168.0.15"]);
    assert.throws(() => withNodeCount(base, 0), /positive integer/);
    assert.throws(() => withNodeCount(base, 300), /no room/);
  });
});
