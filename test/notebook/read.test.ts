import assert from "node:assert/strict";
import { NotebookError, readNotebook, schemaProblems } from "../../runner/notebook/read.ts";
import { cellMetadata } from "../../runner/notebook/roles.ts";
import { notebookOf, writeRaw } from "../helpers/notebooks.ts";

const rejects = (text: string, pattern: RegExp) => {
  const path = writeRaw("bad.ipynb", text);
  assert.throws(
    () => readNotebook(path),
    (error: unknown) => error instanceof NotebookError && error.exitCode === 2 && error.message.startsWith(path) && pattern.test(error.message),
  );
};

describe("reading notebooks", () => {
  it("reads a valid nbformat 4.5 notebook", () => {
    const notebook = notebookOf([{ id: "a", source: "1" }]);
    assert.deepEqual(schemaProblems(notebook), []);
    assert.equal(readNotebook(writeRaw("ok.ipynb", JSON.stringify(notebook))).cells.length, 1);
  });

  it("names the file for bad JSON, a wrong nbformat and missing cells", () => {
    rejects("{ not json", /not a notebook: invalid JSON/);
    rejects(JSON.stringify({ ...notebookOf([]), nbformat: 3 }), /nbformat 3 is not supported/);
    rejects(JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {} }), /has no "cells" list/);
    rejects("[]", /top level is not a JSON object/);
  });

  it("reports schema violations", () => {
    const notebook = notebookOf([{ id: "a", source: "1" }]) as unknown as { cells: Array<Record<string, unknown>> };
    notebook.cells[0]!.cell_type = "python";
    rejects(JSON.stringify(notebook), /does not follow the nbformat 4\.5 schema/);
  });

  it("upgrades nbformat 4.4 notebooks that have no cell ids", () => {
    const notebook = notebookOf([{ id: "x", source: "1" }]) as unknown as { nbformat_minor: number; cells: Array<Record<string, unknown>> };
    notebook.nbformat_minor = 4;
    delete notebook.cells[0]!.id;
    const read = readNotebook(writeRaw("old.ipynb", JSON.stringify(notebook)));
    assert.equal(read.nbformat_minor, 5);
    assert.equal(read.cells[0]!.id, "cell-1");
  });

  it("rejects bad labbook cell metadata, naming the cell", () => {
    const notebook = notebookOf([{ id: "a", source: "1", role: "wizard" }]);
    rejects(JSON.stringify(notebook), /cell 1 \(a\): unknown role "wizard"/);
  });

  it("defaults a cell's role to step and reads requires, timeout and points", () => {
    const [plain, rich] = notebookOf([{ id: "a", source: "1" }, { id: "b", source: "2", role: "check", requires: ["kubernetes"], timeout: 5 }]).cells;
    assert.deepEqual(cellMetadata(plain!, "x").meta, { id: "a", role: "step", requires: [] });
    assert.deepEqual(cellMetadata(rich!, "x").meta, { id: "b", role: "check", requires: ["kubernetes"], timeout: 5 });
    const bad = { ...rich!, metadata: { labbook: { points: "ten" } } };
    assert.deepEqual(cellMetadata(bad, "cell 2").problems, ['cell 2: points must be a non-negative number, got "ten"']);
  });
});
