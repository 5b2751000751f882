// `labbook run` as CI runs it: exit codes, reports, and errors that name the file.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isRunning, processesMarked } from "../../runner/host/procfs.ts";
import { stateRoot } from "../../runner/host/state.ts";
import { finished, labbook, startLabbook, until } from "../helpers/cli.ts";
import { upTestCluster } from "../helpers/cluster.ts";
import { writeFixture, writeRaw } from "../helpers/notebooks.ts";
import { parseXml } from "../report/xml.ts";

describe("labbook run (CLI)", function () {
  this.timeout(120_000);

  it("exits 2 for a malformed notebook, naming it, before starting anything", async () => {
    const path = writeRaw("broken.ipynb", "{ nope");
    const result = await labbook(["run", path]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`labbook: ${path}: not a notebook: invalid JSON`));
    const missing = await labbook(["run", "/nonexistent/lab.ipynb"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /\/nonexistent\/lab\.ipynb: no such notebook or directory/);
  });

  it("exits 0 for a passing lab and writes the executed notebook and every report", async () => {
    const out = mkdtempSync(join(tmpdir(), "labbook-out-"));
    const path = writeFixture("cli-pass", [
      { id: "title", markdown: true, source: "# CLI fixture" },
      { id: "setup", role: "setup", source: `import { cluster, check, hasRoute } from "labbook";\nconst c = await cluster();` },
      { id: "route", role: "check", source: `await check("default route", () => hasRoute(c.node("node2"), "0.0.0.0/0", { via: "192.168.0.1" }));` },
      { id: "kube", requires: ["kubernetes"], source: `console.log("k8s")` },
    ]);
    const result = await labbook(["run", path, "--report", "junit,json,html,md", "--out", out]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /✔ default route/);
    assert.match(result.stdout, /2 passed, 0 failed, 1 skipped/);
    for (const file of ["cli-pass.ipynb", "junit.xml", "results.json", "cli-pass.html", "summary.md"]) assert.ok(existsSync(join(out, file)), `${file} was not written`);
    const junit = readFileSync(join(out, "junit.xml"), "utf8");
    assert.doesNotThrow(() => parseXml(junit), "junit.xml is not well-formed");
    assert.match(junit, /<skipped message="needs kubernetes/);
  });

  it("-p sets a notebook's parameters as papermill does: typed, recorded in the executed notebook; unknown ones exit 2", async () => {
    const out = mkdtempSync(join(tmpdir(), "labbook-out-"));
    const path = writeFixture("params", [
      { id: "parameters", role: "setup", meta: {}, source: `const count = 1; // pings to send\nconst target = "node2";\nconst quiet = false;` },
      { id: "setup", role: "setup", source: `import { cluster, check } from "labbook";\nconst c = await cluster();` },
      { id: "ping", role: "check", source: `await check(\`\${count} pings to \${target}, quiet \${quiet}\`, async () => { await c.node("node1").$\`ping -c \${count} -i 0.2 -W2 \${target}\`; });` },
    ]);
    // The fixture helper writes labbook metadata only: tag the parameters cell as a lab author would in Jupyter.
    const notebook = JSON.parse(readFileSync(path, "utf8")) as { cells: Array<{ id: string; metadata: Record<string, unknown> }> };
    notebook.cells[0]!.metadata.tags = ["parameters"];
    writeFileSync(path, JSON.stringify(notebook));
    const help = await labbook(["params", path]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /count\s+number\s+default 1\s+pings to send/);
    const result = await labbook(["run", path, "-p", "count", "3", "-r", "target", "node3", "-y", "quiet: true", "--out", out]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /✔ 3 pings to node3, quiet true/);
    const executed = JSON.parse(readFileSync(join(out, "params.ipynb"), "utf8")) as { metadata: { labbook: { parameters: unknown } }; cells: Array<{ id: string; metadata: { tags?: string[] } }> };
    assert.deepEqual(executed.metadata.labbook.parameters, { count: 3, target: "node3", quiet: true });
    assert.deepEqual(executed.cells.map((c) => c.id).slice(0, 3), ["parameters", "injected-parameters", "setup"]);
    const unknown = await labbook(["run", path, "-p", "cuont", "3", "--out", out]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown parameter cuont: .*params\.ipynb: it declares: count, target, quiet/);
    const mistyped = await labbook(["run", path, "-p", "count", "three", "--out", out]);
    assert.equal(mistyped.code, 2);
    assert.match(mistyped.stderr, /params\.ipynb: parameter count is a number \(default 1\), got "three"/);
  });

  it("-p variant vK runs a lab with variants as --seed vK does; a variant it lacks exits 2", async () => {
    const path = writeFixture("variants", [{ id: "pick", source: `import { pickBySeed } from "labbook";\nconsole.log("picked", pickBySeed(["a", "b", "c", "d", "e", "f", "g", "h"], "fault"));` }]);
    const lab = JSON.parse(readFileSync(path, "utf8")) as { metadata: Record<string, unknown> };
    writeFileSync(path, JSON.stringify({ ...lab, metadata: { ...lab.metadata, labbook: { variants: 3 } } }));
    const picked = async (args: string[]) => {
      const out = mkdtempSync(join(tmpdir(), "labbook-out-"));
      const result = await labbook(["run", path, ...args, "--out", out]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      return readFileSync(join(out, "variants.ipynb"), "utf8").match(/picked ([a-h])/)?.[1];
    };
    for (const variant of ["v2", "v3"]) assert.equal(await picked(["-p", "variant", variant]), await picked(["--seed", variant]), `variant ${variant}`);
    const missing = await labbook(["run", path, "-p", "variant", "v4"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /variants\.ipynb: parameter variant is one of the lab's 3 variants, v1\.\.v3, got "v4"/);
  });

  it("--jobs 2 runs notebooks at once, each on its own cluster, their lines in blocks; --jobs 0 is a usage error", async () => {
    const fixture = (name: string) =>
      writeFixture(name, [
        { id: "title", markdown: true, source: `# ${name}` },
        { id: "setup", role: "setup", source: `import { cluster, check, reaches } from "labbook";\nconst c = await cluster();` },
        { id: "ping", role: "check", source: `await check("${name} pings node2", () => reaches(c.node("node1"), "192.168.0.12"));` },
      ]);
    const result = await labbook(["run", fixture("jobs-a"), fixture("jobs-b"), "--jobs", "2", "--out", mkdtempSync(join(tmpdir(), "labbook-out-"))]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /2 notebooks in /);
    assert.match(result.stdout, /4 passed, 0 failed, 0 skipped\n/);
    const lines = result.stdout.split("\n");
    // Each notebook's heading is followed by its own cells, not by the other's.
    const headings = lines.flatMap((l, i) => (/^jobs-[ab] \(/.test(l) ? [i] : []));
    assert.equal(headings.length, 2, result.stdout);
    const between = lines.slice(headings[0]! + 1, headings[1]!).join("\n");
    const first = lines[headings[0]!]!.slice(0, 6);
    const other = first === "jobs-a" ? "jobs-b" : "jobs-a";
    assert.ok(between.includes(`${first} pings node2`) && !between.includes(`${other} pings node2`), result.stdout);
    const bad = await labbook(["run", fixture("jobs-c"), "--jobs", "0"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--jobs must be a positive whole number, got "0"/);
  });

  it("starts the next notebook's kernel while the current one runs, and that notebook adopts it", async () => {
    // When each kernel process started, and when the first notebook's last cell ended, in ms since boot: the
    // kernel's start time in /proc is counted from boot (10 ms ticks), and so is /proc/uptime.
    const startedAt = `const { readFileSync } = await import("node:fs");
const stat = readFileSync("/proc/self/stat", "utf8");
console.log("kernel started at", Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]) * 10);`;
    const now = `Math.round(Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) * 1000)`;
    const first = writeFixture("handoff-a", [
      { id: "setup", role: "setup", source: `import { cluster, check, reaches } from "labbook";\nconst c = await cluster();` },
      { id: "started", source: startedAt },
      { id: "last", source: `await new Promise((r) => setTimeout(r, 1500));\nconsole.log("first notebook's last cell ends at", ${now});` },
    ]);
    const second = writeFixture("handoff-b", [
      { id: "setup", role: "setup", source: `import { cluster, check, reaches } from "labbook";\nconst c = await cluster();` },
      { id: "started", source: startedAt },
      // Its kernel was started for it: the SDK finds this notebook's own cluster through the kernel's environment.
      { id: "ping", role: "check", source: `await check("its own cluster", () => reaches(c.node("node1"), "192.168.0.12"));` },
    ]);
    const out = mkdtempSync(join(tmpdir(), "labbook-out-"));
    const result = await labbook(["run", first, second, "--out", out]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const printed = (file: string, id: string) => {
      const cell = (JSON.parse(readFileSync(join(out, file), "utf8")) as { cells: Array<{ id: string; outputs?: Array<{ text?: string | string[] }> }> }).cells.find((c) => c.id === id)!;
      return Number(/ at (\d+)/.exec(cell.outputs?.map((o) => [o.text ?? ""].flat().join("")).join("") ?? "")?.[1]);
    };
    const firstEnds = printed("handoff-a.ipynb", "last");
    const secondKernel = printed("handoff-b.ipynb", "started");
    assert.ok(printed("handoff-a.ipynb", "started") > 0 && firstEnds > 0 && secondKernel > 0, "every figure printed");
    assert.ok(secondKernel < firstEnds, `the second notebook's kernel started at ${secondKernel}, after the first notebook's last cell (${firstEnds})`);
  });

  it("exits 1 when a check fails", async () => {
    const path = writeFixture("cli-fail", [
      { id: "setup", role: "setup", source: `import { cluster, check, fileContains } from "labbook";\nconst c = await cluster();` },
      { id: "file", role: "check", source: `await check("motd says hi", () => fileContains(c.node("node1"), "/etc/hostname", "hi"));` },
    ]);
    const result = await labbook(["run", path, "--out", mkdtempSync(join(tmpdir(), "labbook-out-"))]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /✘ motd says hi/);
    assert.match(result.stdout, /node1:\/etc\/hostname does not contain hi; it reads:\s+node1/);
  });
});

describe("labbook run, interrupted", function () {
  this.timeout(120_000);

  /** Starts `labbook run` on a notebook whose second cell sleeps, and waits until that cell runs. */
  async function startSleepyRun() {
    const path = writeFixture("sleepy", [
      { id: "setup", role: "setup", source: `import { cluster } from "labbook";\nconst c = await cluster();\nconsole.log("connected");` },
      { id: "sleep", source: `await new Promise((r) => setTimeout(r, 60_000));` },
    ]);
    const child = startLabbook(["run", path, "--out", mkdtempSync(join(tmpdir(), "labbook-out-"))]);
    const exit = finished(child);
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await until(() => output.includes("✔"), "the setup cell to finish", 60_000);
    const clusters = processesMarked((m) => m.startsWith(`${stateRoot()}::run${child.pid}-`));
    const kernels = processesMarked((m) => m === "1", "LABBOOK_KERNEL_WATCH_PARENT").filter((p) => isChildOf(p.pid, child.pid!));
    assert.ok(clusters.length > 0, "no cluster processes found: the test would prove nothing");
    assert.equal(kernels.length, 1, "expected the run's one kernel");
    return { child, exit, clusters, kernels };
  }

  it("cleans up the kernel and the cluster on Ctrl-C", async () => {
    const { child, exit, clusters, kernels } = await startSleepyRun();
    child.kill("SIGINT");
    const result = await exit;
    assert.equal(result.code, 130, result.stderr);
    await until(() => ![...clusters, ...kernels].some(isRunning), "the cluster and kernel to be gone", 10_000);
  });

  it("leaves no kernel behind after kill -9, and the next up removes the cluster", async () => {
    const { child, exit, clusters, kernels } = await startSleepyRun();
    child.kill("SIGKILL");
    await exit;
    await until(() => !kernels.some(isRunning), "the orphaned kernel to exit", 10_000);
    const next = await upTestCluster();
    await next.down();
    assert.ok(!clusters.some(isRunning), "the crashed run's cluster survived the next up");
  });
});

describe("labbook run of several notebooks, interrupted", function () {
  this.timeout(120_000);

  it("stops the next notebook's kernel, started ahead, with the current one on Ctrl-C", async () => {
    const sleepy = writeFixture("sleepy-first", [
      { id: "setup", role: "setup", source: `import { cluster } from "labbook";\nconst c = await cluster();\nconsole.log("connected");` },
      { id: "sleep", source: `await new Promise((r) => setTimeout(r, 60_000));` },
    ]);
    const next = writeFixture("never-runs", [{ id: "setup", role: "setup", source: `console.log("never");` }]);
    const child = startLabbook(["run", sleepy, next, "--out", mkdtempSync(join(tmpdir(), "labbook-out-"))]);
    const exit = finished(child);
    const kernelsOf = () => processesMarked((m) => m === "1", "LABBOOK_KERNEL_WATCH_PARENT").filter((p) => isChildOf(p.pid, child.pid!));
    await until(() => kernelsOf().length === 2, "the running notebook's kernel and the next one's", 60_000);
    const kernels = kernelsOf();
    child.kill("SIGINT");
    const result = await exit;
    assert.equal(result.code, 130, result.stderr);
    await until(() => !kernels.some(isRunning), "both kernels to be gone", 10_000);
  });
});

function isChildOf(pid: number, parent: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === parent;
  } catch {
    return false;
  }
}
