// The kernel sandbox (kernel/sandbox.ts), tried from a notebook cell the way a hostile student would:
// writes to host paths, reads of a grader's files, privileged commands, other processes, the host's
// network. Every attempt is recorded by the cell and checked here; the SDK must still reach the nodes.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NetnsBackend } from "../../runner/backend/netns/driver.ts";
import { isRunning, startTimeOf } from "../../runner/host/procfs.ts";
import { stateRoot } from "../../runner/host/state.ts";
import { readNotebook } from "../../runner/notebook/read.ts";
import { runNotebook } from "../../runner/run/notebook-run.ts";
import { uniqueClusterName } from "../helpers/cluster.ts";

const CHECKOUT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const LAB = join(CHECKOUT, "labs", "02-cross-host-routes", "02-cross-host-routes.ipynb");

const PROBE = (secret: string, hostPort: number) => `
const fs = require("fs");
const cp = require("child_process");
const net = require("net");
const attempt = (f: () => unknown) => { try { return "ok:" + String(f()).slice(0, 40); } catch (e: any) { return "refused:" + String(e.code ?? e.message).slice(0, 40); } };
const run = (command: string) => attempt(() => cp.execSync(command, { stdio: "pipe", timeout: 5000 }).toString().trim());
const connectTo = (host: string, port: number) => new Promise<string>((resolve) => {
  const socket = net.connect({ host, port, timeout: 2000 });
  socket.once("connect", () => { socket.destroy(); resolve("ok:connected"); });
  socket.once("timeout", () => { socket.destroy(); resolve("refused:timeout"); });
  socket.once("error", (e: any) => resolve("refused:" + e.code));
});
import { cluster } from "labbook";
const c = await cluster();
const results = {
  uid: run("id -u"),
  writeUsr: attempt(() => fs.writeFileSync("/usr/labbook-escape", "x")),
  writeEtc: attempt(() => fs.writeFileSync("/etc/labbook-escape", "x")),
  writeSdk: attempt(() => fs.writeFileSync(${JSON.stringify(CHECKOUT)} + "/dist/sdk/escape.js", "x")),
  writeVarTmp: attempt(() => fs.writeFileSync("/var/tmp/labbook-escape", "x")),
  readLab: attempt(() => fs.readFileSync(${JSON.stringify(LAB)}, "utf8").length),
  readGradebook: attempt(() => fs.readFileSync(${JSON.stringify(join(secret, "gradebook.csv"))}, "utf8")),
  readState: attempt(() => fs.readdirSync(${JSON.stringify(stateRoot())}).join(",")),
  readShadow: attempt(() => fs.readFileSync("/etc/shadow", "utf8").length),
  checkout: fs.readdirSync(${JSON.stringify(CHECKOUT)}).sort().join(","),
  ipLink: run("ip link add escape0 type dummy"),
  nsenter: run("nsenter -t 1 -n true"),
  mount: run("mount -t tmpfs escape /tmp"),
  sudo: run("sudo -n true"),
  processes: fs.readdirSync("/proc").filter((p: string) => /^\\d+$/.test(p)).length,
  hostLoopback: await connectTo("127.0.0.1", ${hostPort}),
  internet: await connectTo("203.0.113.10", 80),
  hostname: String(await c.node("node1").$\`hostname\`),
};
console.log("PROBE " + JSON.stringify(results));
`;

function notebook(source: string): object {
  return { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "code", id: "probe", metadata: { labbook: { id: "probe", timeout: 60 } }, outputs: [], execution_count: null, source }] };
}

describe("the kernel sandbox", function () {
  this.timeout(120_000);
  let server: Server;
  let port = 0;
  const dir = mkdtempSync(join(tmpdir(), "labbook-sandbox-test-"));
  // A grader's output: somewhere only the hiding covers (not under /tmp, which the sandbox has its own of).
  const secret = mkdtempSync("/var/lib/labbook-sandbox-secret-");
  before(async () => {
    writeFileSync(join(secret, "gradebook.csv"), "alice,3\n");
    server = createServer((socket) => socket.end("host\n"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(secret, { recursive: true, force: true });
  });

  it("contains what a student's cell tries, and the SDK still reaches the nodes over the LAN", async () => {
    // Laid out as a grader lays out a submission: its own folder, and a node_modules/labbook link above it.
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(CHECKOUT, join(dir, "node_modules", "labbook"));
    const path = join(dir, "alice", "probe.ipynb");
    mkdirSync(join(dir, "alice"));
    writeFileSync(path, JSON.stringify(notebook(PROBE(secret, port))));
    const result = await runNotebook(readNotebook(path), path, { backend: new NetnsBackend(), timeoutS: 60, keepGoing: true, outDir: join(dir, "out"), reporter: {}, clusterName: uniqueClusterName("sbx"), sandbox: true, hidePaths: [secret] });
    const executed = JSON.parse(readFileSync(result.executedNotebook, "utf8")) as { cells: Array<{ outputs: Array<{ text?: string | string[]; evalue?: string }> }> };
    const text = executed.cells[0]!.outputs.map((o) => [o.text ?? o.evalue ?? ""].flat().join("")).join("");
    const line = text.split("\n").find((l) => l.startsWith("PROBE "));
    assert.ok(line, `no probe output: ${text.slice(0, 2000)}`);
    const probe = JSON.parse(line.slice("PROBE ".length)) as Record<string, string | number>;
    process.stdout.write(`      ${JSON.stringify(probe)}\n`);
    assert.equal(probe.uid, "ok:65534", "the kernel runs as nobody");
    for (const key of ["writeUsr", "writeEtc", "writeSdk", "writeVarTmp", "readLab", "readGradebook", "readState", "readShadow", "ipLink", "nsenter", "mount", "sudo", "hostLoopback", "internet"]) {
      assert.match(String(probe[key]), /^refused:/, `${key}: ${probe[key]}`);
    }
    assert.equal(probe.checkout, ".labbook,dist,node_modules,package.json,runner", "the checkout shows only what a kernel imports");
    assert.ok(Number(probe.processes) <= 5, `the kernel sees ${probe.processes} processes`);
    assert.equal(probe.hostname, "node1");
    assert.equal(result.passed, true, JSON.stringify(result.cells.map((c) => [c.id, c.status, c.error?.message])));
  });

  it("takes a sandboxed kernel stuck in a busy loop down with its runner, even after kill -9", async () => {
    const runner = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./fixtures/busy-sandboxed-kernel.ts", import.meta.url)), join(CHECKOUT, "labs")], { stdio: ["ignore", "pipe", "inherit"] });
    const pid = await new Promise<number>((resolve) => runner.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
    const kernel = { pid, startTime: startTimeOf(pid)! };
    assert.ok(isRunning(kernel), "the kernel started");
    await new Promise((resolve) => setTimeout(resolve, 500)); // well into its busy loop
    runner.kill("SIGKILL");
    const deadline = Date.now() + 5000;
    while (isRunning(kernel) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(isRunning(kernel), false, "the kernel outlived its runner");
  });
});
