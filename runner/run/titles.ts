// What reports call a notebook and a cell.
import { basename } from "node:path";
import { sourceText, type Cell, type Notebook } from "../notebook/types.ts";

/** The first level-1 heading, else the file's name. */
export function notebookTitle(notebook: Notebook, path: string): string {
  const heading = notebook.cells.find((c) => c.cell_type === "markdown" && /^#\s/m.test(sourceText(c.source)));
  return heading ? /^#\s+(.*)$/m.exec(sourceText(heading.source))![1]!.trim() : basename(path, ".ipynb");
}

/** The first line of the source, else (an emptied cell) its id: never blank in a report. */
export function cellTitle(cell: Cell): string {
  const line = sourceText(cell.source).split("\n").find((l) => l.replace(/^\s*\/\/\s*/, "").trim() !== "") ?? "";
  const title = line.trim().replace(/^\/\/\s*/, "").slice(0, 80);
  return title || `(empty cell ${(cell.metadata.labbook as { id?: string } | undefined)?.id ?? cell.id ?? ""})`.replace(" )", ")");
}
