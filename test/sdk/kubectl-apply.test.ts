// The SDK's kubectlApply on a slow apiserver: a momentary "etcdserver: request timed out" is applied again,
// saying so; any other failure, or the same one three times, fails the cell as before.
import assert from "node:assert/strict";
import type { Node } from "../../runner/cluster/node.ts";
import { CommandError, CommandResult } from "../../runner/cluster/result.ts";
import { kubectlApply } from "../../runner/sdk/kubernetes.ts";

/** A node whose `kubectl apply` answers with each of `stderrs` in turn ("" succeeds). */
function nodeAnswering(stderrs: string[]): { node: Node; applies: () => number } {
  let applies = 0;
  const node = {
    name: "node1",
    put: async () => {},
    run: async (command: string) => {
      const stderr = stderrs[applies++] ?? "";
      const result = new CommandResult("node1", command, stderr ? "" : "service/web created\n", stderr, stderr ? 1 : 0, null, 5, false);
      if (!result.ok) throw new CommandError(result);
      return result;
    },
  } as unknown as Node;
  return { node, applies: () => applies };
}

describe("sdk: kubectlApply on a slow apiserver", () => {
  const quiet = console.log;
  let printed: string[] = [];
  beforeEach(() => {
    printed = [];
    console.log = (...args: unknown[]) => void printed.push(args.join(" "));
  });
  afterEach(() => {
    console.log = quiet;
  });

  it("applies again after a momentary etcd timeout, and says so", async () => {
    const { node, applies } = nodeAnswering(['The Service "web" is invalid: failed to allocate IP 10.96.0.100: etcdserver: request timed out', ""]);
    const result = await kubectlApply(node, "kind: Service", "web.yaml");
    assert.equal(applies(), 2);
    assert.match(result.stdout, /service\/web created/);
    assert.ok(printed.some((line) => /apiserver was too slow to answer, "etcdserver: request timed out"; applying the same file again, 2 of 3/.test(line)), printed.join("\n"));
  });

  it("fails at once on any other error, and after three slow answers", async () => {
    const invalid = nodeAnswering(['error: error validating "web.yaml": unknown field "spec.prots"']);
    await assert.rejects(kubectlApply(invalid.node, "kind: Service", "web.yaml"), CommandError);
    assert.equal(invalid.applies(), 1);
    const slow = nodeAnswering(Array(5).fill("net/http: TLS handshake timeout"));
    await assert.rejects(kubectlApply(slow.node, "kind: Service", "web.yaml"), /TLS handshake timeout/);
    assert.equal(slow.applies(), 3);
  });
});
