// The Node API against a real embedded cluster: real sshd in real namespaces.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { Cluster } from "../../runner/cluster/cluster.ts";
import { CommandError } from "../../runner/cluster/result.ts";
import { LabbookError } from "../../runner/errors.ts";
import { commOf, processesMarked } from "../../runner/host/procfs.ts";
import { markerFor } from "../../runner/host/state.ts";
import { upTestCluster } from "../helpers/cluster.ts";

describe("nodes of an embedded cluster", function () {
  let cluster: Cluster;

  before(async () => {
    cluster = await upTestCluster();
  });

  after(async () => {
    await cluster?.down();
  });

  it("runs a command on each node, each reporting its own hostname", async () => {
    const names = await cluster.all.$`hostname`;
    assert.deepEqual(names.map(String), ["node1", "node2", "node3"]);
    const fromFile = await cluster.all.$`cat /etc/hostname`;
    assert.deepEqual(fromFile.map(String), ["node1", "node2", "node3"]);
  });

  it("returns a rich result: node, command, stdout, stderr, exitCode, durationMs", async () => {
    const result = await cluster.node("node2").$`echo out; echo err >&2`;
    assert.equal(result.node, "node2");
    assert.equal(result.command, "echo out; echo err >&2");
    assert.equal(result.stdout, "out\n");
    assert.equal(result.stderr, "err\n");
    assert.equal(result.exitCode, 0);
    assert.equal(result.timedOut, false);
    assert.ok(result.durationMs > 0 && result.durationMs < 10_000);
  });

  it("gives each node its LAN address and a default route via the gateway", async () => {
    const node1 = cluster.node("node1");
    assert.match(String(await node1.$`ip -4 -br addr show eth0`), /192\.168\.0\.11\/24/);
    assert.match(String(await node1.$`ip route show default`), /^default via 192\.168\.0\.1 dev eth0/);
    assert.equal(String(await node1.$`cat /proc/sys/net/ipv4/ip_forward`), "0");
  });

  it("connects the nodes over the LAN: node1 pings node2 and node3, by address and by name", async () => {
    const node1 = cluster.node("node1");
    await node1.$`ping -c1 -W2 192.168.0.12`;
    await node1.$`ping -c1 -W2 node3`;
    const unreachable = await node1.$({ nothrow: true })`ping -c1 -W1 192.168.0.99`;
    assert.notEqual(unreachable.exitCode, 0, "an address nobody has must not answer");
  });

  it("keeps the gateway from routing anywhere: the host's network is unreachable", async () => {
    const hostRoute = execFileSync("ip", ["-4", "route", "show", "default"], { encoding: "utf8" }).match(/via (\S+)/)?.[1];
    const target = hostRoute ?? "10.255.255.1";
    const result = await cluster.node("node1").$({ nothrow: true })`ping -c1 -W1 ${target}`;
    assert.notEqual(result.exitCode, 0, `node1 reached ${target} outside its LAN`);
  });

  it("throws an error naming node, command, exit code and stderr", async () => {
    await assert.rejects(cluster.node("node3").$`ls /does-not-exist`, (error: unknown) => {
      assert.ok(error instanceof CommandError);
      assert.equal(error.result.exitCode, 2);
      assert.match(error.message, /^node3: command failed with exit code 2: ls \/does-not-exist\n {2}\| ls: cannot access '\/does-not-exist'/);
      return true;
    });
  });

  it("returns instead of throwing with nothrow", async () => {
    const result = await cluster.node("node1").$({ nothrow: true })`exit 7`;
    assert.equal(result.exitCode, 7);
    assert.equal(result.ok, false);
  });

  it("kills a command and everything it started when its timeout passes", async () => {
    const node = cluster.node("node1");
    const result = await node.$({ nothrow: true, timeout: 300 })`sleep 30 | cat; echo unreachable`;
    assert.equal(result.timedOut, true);
    assert.ok(result.durationMs < 5000, `took ${result.durationMs} ms`);
    assert.equal(result.stdout, "");
    const sleepers = await node.$`ps -eo args`;
    assert.ok(!sleepers.lines().some((l) => l.startsWith("sleep 30")), `left running:\n${sleepers.stdout}`);
    await assert.rejects(node.$({ timeout: 200 })`sleep 5`, /node1: command timed out after/);
  });

  it("quotes interpolated values as zx does, so they arrive as one argument", async () => {
    const tricky = "it's a $HOME; `id` \"x\"";
    assert.equal(String(await cluster.node("node1").$`printf %s ${tricky}`), tricky);
  });

  it("feeds stdin", async () => {
    assert.equal(String(await cluster.node("node2").$({ input: "from stdin\n" })`cat`), "from stdin");
  });

  it("streams stdin from a file, whole, without reading it first", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "labbook-stdin-")), "big.bin");
    writeFileSync(file, randomBytes(12 << 20));
    const local = createHash("sha256").update(readFileSync(file)).digest("hex");
    const remote = String(await cluster.node("node2").$({ input: createReadStream(file) })`sha256sum | cut -d' ' -f1`);
    assert.equal(remote, local);
  });

  it("fails a command whose stdin stream fails midway, naming the node", async () => {
    const source = new Readable({ read() {} });
    source.push("the first half\n");
    setTimeout(() => source.destroy(new Error("disk went away")), 100);
    await assert.rejects(cluster.node("node2").$({ input: source })`cat > /dev/null`, (error: Error) => error instanceof LabbookError && /node2: reading the command's stdin failed: disk went away/.test(error.message));
    // The connection is still usable.
    assert.equal(String(await cluster.node("node2").$`echo still here`), "still here");
  });

  it("keeps namespaces private: ip netns add in node1 is invisible to node2", async () => {
    await cluster.node("node1").$`ip netns add c1`;
    assert.match(String(await cluster.node("node1").$`ip netns list`), /^c1/);
    assert.equal(String(await cluster.node("node2").$`ip netns list`), "");
    assert.equal(execFileSync("ip", ["netns", "list"], { encoding: "utf8" }).includes("c1"), false, "c1 leaked to the host");
    await cluster.node("node1").$`ip netns del c1`;
  });

  it("gives each node its own /root, /tmp, /var/log and process table", async () => {
    await cluster.node("node1").$`echo mine > /root/owner && echo mine > /tmp/owner && echo mine > /var/log/owner`;
    const other = await cluster.node("node2").$({ nothrow: true })`cat /root/owner /tmp/owner /var/log/owner`;
    assert.notEqual(other.exitCode, 0);
    const pid1 = await cluster.all.$`cat /proc/1/comm`;
    assert.deepEqual(pid1.map(String), ["tini", "tini", "tini"]);
  });

  it("names every node in /etc/hosts", async () => {
    const hosts = String(await cluster.node("node3").$`cat /etc/hosts`);
    for (const line of ["192.168.0.11\tnode1", "192.168.0.12\tnode2", "192.168.0.13\tnode3"]) assert.ok(hosts.includes(line), line);
  });

  it("puts and gets files over SFTP", async () => {
    const dir = mkdtempSync(join(tmpdir(), "labbook-sftp-"));
    const local = join(dir, "in.txt");
    const payload = "x".repeat(300_000) + "\nend\n"; // larger than one SFTP packet
    writeFileSync(local, payload);
    const node = cluster.node("node2");
    await node.put(local, "/tmp/payload.txt");
    assert.equal(String(await node.$`wc -c < /tmp/payload.txt`), String(Buffer.byteLength(payload)));
    await node.put(Buffer.from("hello"), "/root/hello", 0o600);
    assert.equal(String(await node.$`stat -c %a /root/hello`), "600");
    const back = await node.get("/tmp/payload.txt", join(dir, "out.txt"));
    assert.equal(back.toString(), payload);
    assert.equal(readFileSync(join(dir, "out.txt"), "utf8"), payload);
    await assert.rejects(node.get("/nope"), /node2: get \/nope failed/);
  });

  it("lets nodes ssh to each other by name", async () => {
    assert.equal(String(await cluster.node("node1").$`ssh -o BatchMode=yes node2 hostname`), "node2");
    assert.equal(String(await cluster.node("node3").$`ssh -o BatchMode=yes 192.168.0.11 cat /etc/hostname`), "node1");
  });

  it("runs 100 commands over 3 nodes in parallel on one connection each", async () => {
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => cluster.nodes[i % 3]!.$`echo ${i}`));
    assert.deepEqual(results.map(String), Array.from({ length: 100 }, (_, i) => String(i)));
    const transports = processesMarked((m) => m === markerFor(cluster.name)).filter((p) => commOf(p.pid) === "nsenter");
    assert.equal(transports.length, 3, "one inetd sshd (one connection) per node");
  });

  it("reaches nodes over pipes: the runner holds no network socket on the host", async () => {
    await cluster.node("node1").$`true`;
    const sockets = execFileSync("ss", ["-Htuanp"], { encoding: "utf8" }).split("\n").filter((l) => l.includes(`pid=${process.pid},`));
    assert.deepEqual(sockets, []);
  });

  it("opens a login shell on a terminal, as labbook ssh does", async () => {
    const connection = await cluster.connection("node3");
    const shell = await connection.shell({ rows: 24, cols: 100, term: "xterm" }, true);
    let output = "";
    shell.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exitCode = new Promise<number>((resolve) => shell.on("exit", (code: number) => resolve(code)));
    shell.end("tty; stty size; exit 3\n");
    assert.equal(await exitCode, 3);
    assert.match(output, /\/dev\/pts\/\d+/);
    assert.match(output, /24 100/);
  });

  it("fails name lookups at once instead of waiting for the host's unreachable resolver", async () => {
    const result = await cluster.node("node1").$({ nothrow: true })`getent hosts no-such-host.example`;
    assert.equal(result.exitCode, 2);
    assert.ok(result.durationMs < 3000, `lookup took ${result.durationMs} ms`);
    assert.equal(String(await cluster.node("node1").$`getent hosts node2`).split(/\s+/)[0], "192.168.0.12");
  });

  it("names the cluster's nodes when asked for an unknown one", () => {
    assert.throws(() => cluster.node("node9"), (error: unknown) => error instanceof LabbookError && /unknown node "node9" in cluster "t\d+-\d+" \(nodes: node1, node2, node3\)/.test(error.message));
  });
});
