// The `labbook` command as a user runs it: exit codes, messages, and a whole session.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BIN, finished, labbook } from "../helpers/cli.ts";
import { uniqueClusterName } from "../helpers/cluster.ts";

const noStack = (text: string) => assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+/, `a stack trace reached the user:\n${text}`);

describe("labbook CLI", function () {
  it("prints usage and exits 2 without a command, or with an unknown one", async () => {
    const none = await labbook([]);
    assert.equal(none.code, 2);
    assert.match(none.stdout, /usage: labbook <command>/);
    const unknown = await labbook(["frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });

  it("exits 2 on a bad option, with a one-line message and no stack trace", async () => {
    const result = await labbook(["up", "--nodes", "zero"]);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, 'labbook: --nodes must be a positive whole number, got "zero"\n');
    const unknown = await labbook(["down", "--everything"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /labbook down: Unknown option '--everything'/);
    noStack(unknown.stderr);
  });

  it("shows each command's usage with --help", async () => {
    const result = await labbook(["exec", "--help"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /labbook exec \[--name C\]/);
  });

  it("prints its version with --version", async () => {
    const result = await labbook(["--version"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^labbook \d+\.\d+\.\d+ \(node v\d+/);
  });

  it("runs the same from Node's own type stripping and, where Node has none, through tsx", async () => {
    // A command that loads most of the CLI: argument parsing, the notebook reader, its schema.
    const args = [BIN, "params", fileURLToPath(new URL("../../labs/06-calico-vs-flannel/06-calico-vs-flannel.ipynb", import.meta.url))];
    const native = await finished(spawn(process.execPath, args, { env: process.env }));
    const viaTsx = await finished(spawn(process.execPath, ["--no-experimental-strip-types", ...args], { env: process.env }));
    assert.equal(native.code, 0, native.stderr);
    assert.equal(viaTsx.code, 0, viaTsx.stderr);
    assert.match(native.stdout, /seconds\s+number\s+default 2/);
    assert.equal(viaTsx.stdout, native.stdout);
    assert.equal(native.stderr, "", "no warning from Node's type stripping");
  });

  it("exits 1 with a readable message for a cluster that does not exist", async () => {
    const result = await labbook(["exec", "--name", "nosuch", "node1", "--", "true"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^labbook: no cluster named "nosuch"/);
    noStack(result.stderr);
  });

  it("refuses to start a cluster without root, saying so and how to fix it", async () => {
    const result = await labbook(["up", "--name", uniqueClusterName("nonroot")], undefined, { uid: 65534, gid: 65534 });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^labbook: the embedded cluster cannot start here:\n {2}running as root: uid 65534/);
    noStack(result.stderr);
  });

  it("reports a bad topology file by field and line", async () => {
    const result = await labbook(["up", "--topology", "/dev/null"]);
    assert.equal(result.code, 2, "bad input, like a bad notebook");
    assert.match(result.stderr, /invalid topology \/dev\/null/);
    noStack(result.stderr);
  });

  it("runs a session: up, status, exec, ssh, down", async () => {
    const name = uniqueClusterName("cli");
    const up = await labbook(["up", "--name", name]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, new RegExp(`cluster "${name}" is up \\(netns, [0-9.]+ s\\): node1 192\\.168\\.0\\.11, node2 192\\.168\\.0\\.12, node3 192\\.168\\.0\\.13`));
    try {
      const status = await labbook(["status"]);
      assert.match(status.stdout, /^CLUSTER\s+BACKEND\s+STATE/);
      assert.match(status.stdout, new RegExp(`${name}\\s+netns\\s+up\\s+\\S+\\s+node1\\s+192\\.168\\.0\\.11\\s+\\d+\\s+running`));

      const ping = await labbook(["exec", "--name", name, "node1", "--", "ping", "-c1", "192.168.0.12"]);
      assert.equal(ping.code, 0, ping.stderr);
      assert.match(ping.stdout, /1 packets transmitted, 1 received/);

      const shellLine = await labbook(["exec", "--name", name, "node2", "--", "hostname; exit 3"]);
      assert.equal(shellLine.code, 3);
      assert.equal(shellLine.stdout, "node2\n");

      const quoted = await labbook(["exec", "--name", name, "node2", "--", "printf", "%s|", "a b", "$HOME"]);
      assert.equal(quoted.stdout, "a b|$HOME|");

      const unknownNode = await labbook(["exec", "--name", name, "node7", "--", "true"]);
      assert.equal(unknownNode.code, 1);
      assert.match(unknownNode.stderr, /unknown node "node7" .*\(nodes: node1, node2, node3\)/);

      const timedOut = await labbook(["exec", "--name", name, "--timeout", "0.3", "node1", "--", "sleep", "10"]);
      assert.notEqual(timedOut.code, 0);
      assert.match(timedOut.stderr, /node1: command timed out after 0\.3 s/);

      const shell = await labbook(["ssh", "--name", name, "node3"], "hostname\nexit 4\n");
      assert.equal(shell.code, 4);
      assert.match(shell.stdout, /node3/);
    } finally {
      const down = await labbook(["down", "--name", name]);
      assert.equal(down.code, 0, down.stderr);
      assert.match(down.stdout, new RegExp(`removed "${name}"`));
    }
    const gone = await labbook(["status", "--json"]);
    assert.ok(!(JSON.parse(gone.stdout) as Array<{ name: string }>).some((c) => c.name === name));
  });

  it("runs the smoke check", async () => {
    const result = await labbook(["smoke", "--name", uniqueClusterName("smoke")]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /ok\s+the first node pings every other node/);
    assert.match(result.stdout, /3 passed, 0 failed/);
  });

  it("doctor checks this machine and exits 0 when all is present", async () => {
    const result = await labbook(["doctor", "--json"]);
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: Array<{ name: string; ok: boolean }> };
    const names = report.checks.map((c) => c.name);
    for (const expected of ["running as root", "Debian packages", "kernel: veth", "kernel: bridge", "kernel: vxlan", "kernel: tun", "kernel: FUSE", "kernel: iptables (nat, filter, raw)"]) {
      assert.ok(names.includes(expected), `doctor does not check ${expected}`);
    }
    assert.equal(result.code, report.ok ? 0 : 1);
    assert.ok(report.ok, `doctor found problems on the test machine: ${result.stdout}`);
  });
});
