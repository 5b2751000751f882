import assert from "node:assert/strict";
import { CommandError, CommandResult } from "../../runner/cluster/result.ts";
import { inspect } from "node:util";

const result = (exitCode: number | null, stderr: string, extra: Partial<{ timedOut: boolean; signal: string }> = {}) =>
  new CommandResult("node2", "ip route add 10.0.0.0/8 via 1.2.3.4", "", stderr, exitCode, extra.signal ?? null, 12.5, extra.timedOut ?? false);

describe("command results and errors", () => {
  it("says which node, which command, which exit code, and the tail of stderr", () => {
    const stderr = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join("\n");
    const message = new CommandError(result(2, stderr)).message;
    assert.match(message, /^node2: command failed with exit code 2: ip route add 10\.0\.0\.0\/8 via 1\.2\.3\.4\n/);
    assert.match(message, /\| line 30$/);
    assert.doesNotMatch(message, /\| line 20\n/);
    assert.match(message, /\| line 21\n/);
  });

  it("tells a timeout and a signal from an exit code", () => {
    assert.match(new CommandError(result(124, "", { timedOut: true })).message, /node2: command timed out after 13 ms/);
    assert.match(new CommandError(result(null, "", { signal: "KILL" })).message, /was killed by KILL/);
  });

  it("is ok only for exit code 0 without a timeout", () => {
    assert.equal(result(0, "").ok, true);
    assert.equal(result(1, "").ok, false);
    assert.equal(result(0, "", { timedOut: true }).ok, false);
  });

  it("splits lines and parses JSON from stdout", () => {
    const r = new CommandResult("n", "c", "a\nb\n", "", 0, null, 1, false);
    assert.deepEqual(r.lines(), ["a", "b"]);
    assert.deepEqual(new CommandResult("n", "c", '{"x":1}\n', "", 0, null, 1, false).json(), { x: 1 });
    assert.deepEqual(new CommandResult("n", "c", "", "", 0, null, 1, false).lines(), []);
  });

  it("inspects as one line (a notebook shows a cell's last value), not as a dump of its output", () => {
    const r = new CommandResult("node1", "ls /usr/lib/cni", "bridge\nhost-local\n", "", 0, null, 1, false);
    assert.equal(inspect(r), "[node1: ls /usr/lib/cni: exit 0, 2 lines of output]");
    assert.equal(inspect(result(null, "", { signal: "KILL" })).includes("killed by KILL"), true);
  });
});
