// What reports call a notebook and a cell.
import { basename } from "node:path";
import { sourceText, type Cell, type Notebook } from "../notebook/types.ts";

/** The first level-1 heading, else the file's name. */
export function notebookTitle(notebook: Notebook, path: string): string {
  const heading = notebook.cells.find((c) => c.cell_type === "markdown" && /^#\s/m.test(sourceText(c.source)));
  return heading ? /^#\s+(.*)$/m.exec(sourceText(heading.source))![1]!.trim() : basename(path, ".ipynb");
}

export function cellTitle(cell: Cell): string {
  const line = sourceText(cell.source).split("\n").find((l) => l.trim() !== "") ?? "";
  return line.replace(/^\/\/\s*/, "").slice(0, 80);
}
