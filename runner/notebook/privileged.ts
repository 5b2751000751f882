// What a lab's cluster must be, from its notebook-level metadata.labbook:
// - `privileged`: why its nodes need root of the whole machine (GlusterFS's bricks). Without it nodes are
//   fenced (netns/node-fence.sh). When grading, only the instructor's lab can ask for it, never a submission.
// - `kubernetes: true`: the lab runs on Kubernetes; `labbook run` and `labbook grade` start it on the lab's
//   cluster (labbook up --kubernetes), and its Kubernetes cells run instead of being skipped.
import { NotebookError } from "./notebook-error.ts";
import type { Notebook } from "./types.ts";

/** The reason, or undefined for a fenced cluster; anything but a non-empty string is refused. */
export function privilegedReason(notebook: Notebook, path: string): string | undefined {
  const reason = declared(notebook).privileged;
  if (reason === undefined) return undefined;
  if (typeof reason !== "string" || reason.trim() === "") {
    throw new NotebookError(`${path}: metadata.labbook.privileged must say why the nodes need root of the machine (a non-empty string)`);
  }
  return reason;
}

/** Whether the lab asks for Kubernetes on its cluster; anything but a boolean is refused. */
export function kubernetesRequired(notebook: Notebook, path: string): boolean {
  const wanted = declared(notebook).kubernetes;
  if (wanted === undefined) return false;
  if (typeof wanted !== "boolean") throw new NotebookError(`${path}: metadata.labbook.kubernetes must be true or false, not ${JSON.stringify(wanted)}`);
  return wanted;
}

/** The lab's own declarations, to carry into a notebook built from it (grading's), and nothing else. */
export function privilegedOf(notebook: Notebook): { privileged?: string; kubernetes?: boolean } {
  const { privileged, kubernetes } = declared(notebook);
  return { ...(privileged === undefined ? {} : { privileged: privileged as string }), ...(kubernetes === true ? { kubernetes } : {}) };
}

function declared(notebook: Notebook): { privileged?: unknown; kubernetes?: unknown } {
  return (notebook.metadata.labbook as { privileged?: unknown; kubernetes?: unknown } | null | undefined) ?? {};
}
