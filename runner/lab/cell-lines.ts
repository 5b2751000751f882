// Where each cell of a lab's source starts: jupytext puts every cell under its own `// %%` marker, so the
// k-th marker opens the k-th cell and its lines follow. Errors about a cell then name the source's line.
import type { Notebook } from "../notebook/types.ts";

const MARKER = /^\/\/ %%(?:$|\s)/;

/** The 1-based line of each cell's first content line in `sourceText`, or undefined when markers and cells disagree. */
export function cellFirstLines(sourceText: string, notebook: Notebook): number[] | undefined {
  const markers: number[] = [];
  sourceText.split("\n").forEach((line, index) => {
    if (MARKER.test(line)) markers.push(index + 1);
  });
  if (markers.length !== notebook.cells.length) return undefined;
  return markers.map((line) => line + 1);
}
