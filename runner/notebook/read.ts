// Reading, validating and writing .ipynb files. Every error names the file (and the cell).
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Ajv as AjvCore, ValidateFunction } from "ajv";
import { compiledValidator } from "../schema/compiled-validator.ts";
import { kubernetesRequired, privilegedReason } from "./privileged.ts";
import { cellMetadata, isRunnable } from "./roles.ts";
import type { Notebook } from "./types.ts";
import { NotebookError } from "./notebook-error.ts";

export { NotebookError };

let schemaValidator: ValidateFunction | undefined;

/** The official nbformat 4.5 JSON schema (from Debian's python3-nbformat, draft-04). */
function validator(): ValidateFunction {
  if (schemaValidator) return schemaValidator;
  const require = createRequire(import.meta.url);
  const schema = require("./nbformat.v4.5.schema.json") as object;
  schemaValidator = compiledValidator("nbformat-4.5", schema, { allErrors: true, strict: false }, (options) => {
    // ajv-draft-04 is CommonJS whose default export ESM cannot see as a class under NodeNext.
    const Ajv04 = require("ajv-draft-04") as typeof AjvCore;
    return new Ajv04(options);
  });
  return schemaValidator;
}

/** Problems with an in-memory notebook against the nbformat 4.5 schema; empty when valid. */
export function schemaProblems(notebook: unknown): string[] {
  const validate = validator();
  if (validate(notebook)) return [];
  return (validate.errors ?? []).slice(0, 10).map((e) => `${e.instancePath || "(top level)"} ${e.message ?? "is invalid"}`);
}

export function readNotebook(path: string): Notebook {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new NotebookError(`${path}: cannot read: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new NotebookError(`${path}: not a notebook: invalid JSON (${(error as Error).message})`);
  }
  const shape = data as Partial<Notebook> | null;
  if (typeof shape !== "object" || shape === null || Array.isArray(shape)) throw new NotebookError(`${path}: not a notebook: the top level is not a JSON object`);
  if (shape.nbformat !== 4) throw new NotebookError(`${path}: nbformat ${String(shape.nbformat)} is not supported; labbook reads nbformat 4 (4.5)`);
  if (!Array.isArray(shape.cells)) throw new NotebookError(`${path}: not a notebook: it has no "cells" list`);
  upgradeToMinor5(shape as Notebook);
  const problems = schemaProblems(data);
  if (problems.length) throw new NotebookError(`${path}: does not follow the nbformat 4.5 schema:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  const notebook = data as Notebook;
  // nbformat 4.5 asks for unique cell ids; results, reports and grading match cells by them.
  const seen = new Map<string, number>();
  for (const [index, cell] of notebook.cells.entries()) {
    const first = seen.get(cell.id);
    if (first !== undefined) throw new NotebookError(`${path}: cells ${first + 1} and ${index + 1} have the same id "${cell.id}"; cell ids must be unique`);
    seen.set(cell.id, index);
  }
  const metaProblems = notebook.cells.flatMap((cell, i) => (isRunnable(cell) ? cellMetadata(cell, `${path}: cell ${i + 1} (${cell.id})`).problems : []));
  if (metaProblems.length) throw new NotebookError(metaProblems.join("\n"));
  const labbookIds = new Map<string, number>();
  for (const [index, cell] of notebook.cells.entries()) {
    const id = isRunnable(cell) ? cellMetadata(cell, "").meta.id : undefined;
    if (id === undefined) continue;
    const first = labbookIds.get(id);
    if (first !== undefined) throw new NotebookError(`${path}: cells ${first + 1} and ${index + 1} have the same metadata.labbook.id "${id}"`);
    labbookIds.set(id, index);
  }
  privilegedReason(notebook, path);
  kubernetesRequired(notebook, path);
  return notebook;
}

/** nbformat 4.0-4.4 files have no cell ids; 4.5 requires them. Jupyter upgrades the same way. */
function upgradeToMinor5(notebook: Notebook): void {
  if (typeof notebook.nbformat_minor !== "number" || notebook.nbformat_minor >= 5) return;
  notebook.cells.forEach((cell, index) => {
    if (typeof cell === "object" && cell !== null && !cell.id) cell.id = `cell-${index + 1}`;
  });
  notebook.nbformat_minor = 5;
}

/** Atomic write: a reader (Jupyter, a CI artifact upload) never sees half a notebook. */
/** A notebook as labbook saves it (one-space JSON, as Jupyter indents it, and a final newline). */
export function notebookJson(notebook: Notebook): string {
  return JSON.stringify(notebook, null, 1) + "\n";
}

export function writeNotebook(path: string, notebook: Notebook): void {
  writeFileSync(`${path}.tmp`, notebookJson(notebook));
  renameSync(`${path}.tmp`, path);
}
