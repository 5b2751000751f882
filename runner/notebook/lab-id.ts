// A lab's identity: metadata.labbook.id of the notebook, which `labbook lab build` writes from the source's
// name and `assign` stamps into the student's copy. Renaming the file (k1.ipynb to k1-v2.ipynb) keeps it, so
// the same class's submissions still match; a notebook without one is known by its file name.
import { basename } from "node:path";
import { NotebookError } from "./notebook-error.ts";
import type { Notebook } from "./types.ts";

const LAB_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

/** The declared id, checked; undefined when the notebook declares none. */
export function declaredLabId(notebook: Notebook, path: string): string | undefined {
  const id = (notebook.metadata.labbook as { id?: unknown } | null | undefined)?.id;
  if (id === undefined) return undefined;
  if (typeof id !== "string" || !LAB_ID.test(id)) {
    throw new NotebookError(`${path}: metadata.labbook.id must be a lab id (letters, digits, ".", "_" or "-", at most 64), not ${JSON.stringify(id)}`);
  }
  return id;
}

/** The lab's id: the declared one, else the file's name without .ipynb. */
export function labIdOf(notebook: Notebook, path: string): string {
  return declaredLabId(notebook, path) ?? basename(path, ".ipynb");
}
