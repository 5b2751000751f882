// A lab's notebook-level metadata.labbook.privileged: why its cluster's nodes need root of the whole
// machine (GlusterFS's bricks). The runner makes such a cluster for it; without it nodes are fenced
// (netns/node-fence.sh). When grading, only the instructor's lab can ask for it, never a submission.
import { NotebookError } from "./read.ts";
import type { Notebook } from "./types.ts";

/** The reason, or undefined for a fenced cluster; anything but a non-empty string is refused. */
export function privilegedReason(notebook: Notebook, path: string): string | undefined {
  const reason = declared(notebook);
  if (reason === undefined) return undefined;
  if (typeof reason !== "string" || reason.trim() === "") {
    throw new NotebookError(`${path}: metadata.labbook.privileged must say why the nodes need root of the machine (a non-empty string)`);
  }
  return reason;
}

/** The lab's own declaration, to carry into a notebook built from it (grading's), and nothing else. */
export function privilegedOf(notebook: Notebook): { privileged?: string } {
  const reason = declared(notebook);
  return reason === undefined ? {} : { privileged: reason as string };
}

function declared(notebook: Notebook): unknown {
  return (notebook.metadata.labbook as { privileged?: unknown } | null | undefined)?.privileged;
}
