// How many variants a lab offers (metadata.labbook.variants: N): read by grading, which gives each student one
// (grade/variants.ts), and by `labbook run -p variant vK` (parameters.ts), which picks one by hand.
import { NotebookError } from "./notebook-error.ts";
import type { Notebook } from "./types.ts";

/** How many variants the lab offers, or undefined for none. */
export function labVariants(notebook: Notebook, path: string): number | undefined {
  const count = (notebook.metadata.labbook as { variants?: unknown } | null | undefined)?.variants;
  if (count === undefined) return undefined;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > 1000) {
    throw new NotebookError(`${path}: metadata.labbook.variants must be how many variants the lab offers (a whole number from 1 to 1000), not ${JSON.stringify(count)}`);
  }
  return count;
}
