// Fuzzed inputs (issue 8): 420 malformed notebooks and 105 malformed topologies from a fixed seed. Each
// must be refused with an error that names the file and is labbook's own (no TypeError, no stack trace,
// no hang). A sample goes through the real CLI: exit code 2, the file named, nothing left behind.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LabbookError } from "../../runner/errors.ts";
import { NotebookError, readNotebook } from "../../runner/notebook/read.ts";
import { loadTopology } from "../../runner/topology/load.ts";
import { labbook } from "../helpers/cli.ts";
import { snapshotHost } from "../helpers/host-snapshot.ts";
import { notebookCases, topologyCases, type FuzzCase } from "./generate.ts";

const SEED = 20261124;
const LABS = fileURLToPath(new URL("../../labs/", import.meta.url));
const BASES = ["00-hello-cluster", "02-cross-host-routes", "07-service-clusterip-nodeport"].map((name) => join(LABS, name, `${name}.ipynb`));
const dir = mkdtempSync(join(tmpdir(), "labbook-fuzz-"));

function write(cases: FuzzCase[], extension: string): Array<FuzzCase & { path: string }> {
  return cases.map((c, i) => {
    const path = join(dir, `${extension}-${String(i).padStart(3, "0")}-${c.kind.replace(/\W+/g, "-")}.${extension}`);
    writeFileSync(path, c.content);
    return { ...c, path };
  });
}

/** The error `read` throws for `path`, which must be labbook's own and name the file. */
function refusal(read: () => unknown, path: string, kind: string, expected: new (...args: never[]) => LabbookError): LabbookError {
  let thrown: unknown;
  try {
    read();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown !== undefined, `${kind}: ${path} was accepted`);
  assert.ok(thrown instanceof expected, `${kind}: ${path} raised ${(thrown as Error).name}: ${(thrown as Error).message}`);
  assert.ok(thrown.message.includes(path), `${kind}: the error does not name the file: ${thrown.message.slice(0, 200)}`);
  return thrown;
}

describe("fuzzed inputs", function () {
  this.timeout(120_000);
  const notebooks = write(notebookCases(SEED, 420, BASES), "ipynb");
  const topologies = write(topologyCases(SEED, 105), "yaml");
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`refuses all ${notebooks.length} malformed notebooks with an error naming the file`, () => {
    const byKind = new Map<string, number>();
    for (const c of notebooks) {
      refusal(() => readNotebook(c.path), c.path, c.kind, NotebookError);
      byKind.set(c.kind, (byKind.get(c.kind) ?? 0) + 1);
    }
    assert.ok(byKind.size >= 14, [...byKind.keys()].join(", "));
    process.stdout.write(`      ${[...byKind].map(([k, n]) => `${k} ${n}`).join(", ")}\n`);
  });

  it(`refuses all ${topologies.length} malformed topologies with an error naming the file`, () => {
    for (const c of topologies) refusal(() => loadTopology(c.path), c.path, c.kind, LabbookError);
  });

  it("exits 2 from the CLI with the file named and no stack trace, starting nothing and leaving nothing", async () => {
    const before = snapshotHost();
    const out = join(dir, "out");
    const sample = [...notebooks.filter((_, i) => i % 30 === 0).map((c) => ["run", "--out", out, c.path]), ...topologies.filter((_, i) => i % 15 === 0).map((c) => ["up", "--name", "fuzz", "--topology", c.path])];
    for (const args of sample) {
      const result = await labbook(args);
      const path = args[args.length - 1]!;
      assert.equal(result.code, 2, `${args.join(" ")}: exit ${result.code}\n${result.stderr}`);
      assert.ok(result.stderr.startsWith("labbook: "), result.stderr);
      assert.ok(result.stderr.includes(path), result.stderr.slice(0, 300));
      assert.doesNotMatch(result.stderr, /^\s+at .+:\d+:\d+\)?$/m, "a stack trace");
    }
    const status = await labbook(["status", "--json"]);
    assert.deepEqual(JSON.parse(status.stdout), []);
    assert.equal(existsSync(out), false, "labbook run wrote an output directory for bad input");
    assert.deepEqual(readdirSync(tmpdir()).filter((name) => /^labbook-(kernel|notes|grade)-/.test(name) && name.includes(`-${process.pid}-`)), []);
    assert.deepEqual(snapshotHost(), before);
  });
});
