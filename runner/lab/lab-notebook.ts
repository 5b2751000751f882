// The notebook students open, from what jupytext read out of a lab's source: the same cells and
// metadata, made deterministic (cell ids from the labbook ids, sources as lines) so that building twice
// gives the same bytes, and CI can tell a committed notebook that lags its source.
import type { Cell, Notebook } from "../notebook/types.ts";

export const LAB_SOURCE_SUFFIX = ".lab.ts";

const KERNELSPEC = { name: "labbook-tslab", display_name: "TypeScript (labbook)", language: "typescript" };
const CELL_ID = /^[a-zA-Z0-9-_]{1,64}$/;

/** Source text as nbformat's list of lines, each but the last ending in "\n" (as Jupyter saves it). */
function asLines(text: string): string[] {
  return text === "" ? [] : text.split(/(?<=\n)/);
}

function labbookId(cell: { metadata?: Record<string, unknown> }): string | undefined {
  const id = (cell.metadata?.labbook as { id?: unknown } | undefined)?.id;
  return typeof id === "string" && CELL_ID.test(id) ? id : undefined;
}

/** `id`: the lab's id when its source declares none (its file name): written into metadata.labbook.id (notebook/lab-id.ts). */
export function labNotebook(read: Notebook, id: string): Notebook {
  const { jupytext: _jupytext, kernelspec, labbook, ...rest } = read.metadata as Record<string, unknown>;
  const used = new Set<string>();
  const cells = read.cells.map((cell, index): Cell => {
    let id = labbookId(cell) ?? `cell-${index + 1}`;
    if (used.has(id)) id = `${id}-${index + 1}`;
    used.add(id);
    const source = asLines(typeof cell.source === "string" ? cell.source : cell.source.join(""));
    const metadata = cell.metadata ?? {};
    if (cell.cell_type === "code") return { cell_type: "code", id, metadata, source, outputs: [], execution_count: null };
    return { cell_type: cell.cell_type, id, metadata, source } as Cell;
  });
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      ...rest,
      kernelspec: kernelspec ?? KERNELSPEC,
      language_info: { name: "typescript", file_extension: ".ts" },
      labbook: { id, ...(labbook as Record<string, unknown> | undefined) },
    },
    cells,
  };
}
