// labbook lab build: a lab's percent-format source makes the notebook students open, the same bytes
// every time; the committed notebooks are what their sources make; bad sources are refused by line.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildLabs, findLabSources, writeBuiltLabs } from "../../runner/lab/build.ts";
import { readNotebook } from "../../runner/notebook/read.ts";
import { sourceText } from "../../runner/notebook/types.ts";

const LABS = fileURLToPath(new URL("../../labs/", import.meta.url));

const SOURCE = `// ---
// jupyter:
//   kernelspec:
//     display_name: TypeScript (labbook)
//     language: typescript
//     name: labbook-tslab
//   labbook:
//     kubernetes: true
// ---

// %% [markdown]
// # Lab 99: a test
//
// Some *markdown*.

// %% labbook={"id": "setup", "role": "setup"}
import { cluster } from "labbook";
const c = await cluster({ fresh: true });

// %% [raw] labbook={"id": "grader-setup", "role": "grader-setup"}
// import { cluster } from "labbook";
// const c = await cluster();

// %% labbook={"id": "hidden", "role": "hidden-check", "hint": "look", "points": 2}
console.log(c.name);
`;

describe("labbook lab build", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "labbook-lab-build-"));
    mkdirSync(join(dir, "99-test"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("makes the notebook from the source: cells, roles, ids, raw grader-setup and the lab's metadata, the same bytes twice", () => {
    writeFileSync(join(dir, "99-test", "99-test.lab.ts"), SOURCE);
    const [built] = buildLabs(findLabSources([dir]));
    assert.equal(built!.notebook, join(dir, "99-test", "99-test.ipynb"));
    assert.equal(built!.upToDate, false);
    writeBuiltLabs([built!]);
    const notebook = readNotebook(built!.notebook);
    assert.deepEqual(notebook.metadata.labbook, { id: "99-test", kubernetes: true }, "the lab's id comes from its source's name");
    assert.equal((notebook.metadata.kernelspec as { name: string }).name, "labbook-tslab");
    assert.deepEqual(notebook.cells.map((c) => [c.cell_type, c.id]), [["markdown", "cell-1"], ["code", "setup"], ["raw", "grader-setup"], ["code", "hidden"]]);
    assert.deepEqual(notebook.cells[3]!.metadata.labbook, { id: "hidden", role: "hidden-check", hint: "look", points: 2 });
    assert.equal(sourceText(notebook.cells[0]!.source), "# Lab 99: a test\n\nSome *markdown*.");
    assert.equal(sourceText(notebook.cells[2]!.source), 'import { cluster } from "labbook";\nconst c = await cluster();');
    assert.equal(buildLabs(findLabSources([dir]))[0]!.upToDate, true, "a second build changed the notebook");
  });

  it("refuses an unknown role and garbled metadata, naming the source's line", () => {
    const file = join(dir, "99-test", "99-test.lab.ts");
    writeFileSync(file, SOURCE.replace('"role": "setup"', '"role": "setpu"'));
    assert.throws(() => buildLabs(findLabSources([file])), (error: Error) => error.message.includes(`${file}:16: unknown role "setpu"`));
    writeFileSync(file, SOURCE.replace('"points": 2}', '"points": 2'));
    assert.throws(() => buildLabs(findLabSources([file])), (error: Error) => error.message.includes(`${file}:24: the cell marker's metadata is not key=JSON pairs`));
    assert.throws(() => findLabSources([join(dir, "99-test", "nothing.ts")]), /no such file or folder/);
    mkdirSync(join(dir, "empty"));
    assert.throws(() => findLabSources([join(dir, "empty")]), /no lab source/);
  });

  it("finds every lab in labs/, and each committed notebook is exactly what its source makes", () => {
    const built = buildLabs(findLabSources([LABS]));
    assert.ok(built.length >= 11, `found ${built.length} labs`);
    const stale = built.filter((b) => !b.upToDate).map((b) => b.notebook);
    assert.deepEqual(stale, [], "run `labbook lab build` and commit the notebooks");
    for (const lab of built) assert.equal(readFileSync(lab.notebook, "utf8"), lab.text);
  });
});
