// What a lab's cluster must be, from its notebook-level metadata.labbook:
// - `privileged`: why its nodes need root of the whole machine (GlusterFS's bricks). Without it nodes are
//   fenced (netns/node-fence.sh). When grading, only the instructor's lab can ask for it, never a submission.
// - `kubernetes: true`: the lab runs on Kubernetes; `labbook run` and `labbook grade` start it on the lab's
//   cluster (labbook up --kubernetes), and its Kubernetes cells run instead of being skipped.
//   `kubernetes: { defer: ["flanneld", "kube-proxy"] }`: the same, but the lab starts those parts itself, after
//   building the same by hand (the SDK's kubernetesStart).
import { NotebookError } from "./notebook-error.ts";
import type { Notebook } from "./types.ts";
import { DEFERRABLE, type DeferrableComponent, type KubernetesRequest } from "../topology/types.ts";

/** The reason, or undefined for a fenced cluster; anything but a non-empty string is refused. */
export function privilegedReason(notebook: Notebook, path: string): string | undefined {
  const reason = declared(notebook).privileged;
  if (reason === undefined) return undefined;
  if (typeof reason !== "string" || reason.trim() === "") {
    throw new NotebookError(`${path}: metadata.labbook.privileged must say why the nodes need root of the machine (a non-empty string)`);
  }
  return reason;
}

/** Whether the lab asks for Kubernetes on its cluster. */
export function kubernetesRequired(notebook: Notebook, path: string): boolean {
  return kubernetesRequest(notebook, path) !== undefined;
}

/** What the lab asks of Kubernetes, or undefined for none; anything but a boolean or `{ defer: [...] }` is refused. */
export function kubernetesRequest(notebook: Notebook, path: string): KubernetesRequest | undefined {
  const wanted = declared(notebook).kubernetes;
  if (wanted === undefined || wanted === false) return undefined;
  if (wanted === true) return {};
  const defer = (wanted as { defer?: unknown } | null)?.defer;
  const valid =
    typeof wanted === "object" && wanted !== null && !Array.isArray(wanted) && Object.keys(wanted).every((key) => key === "defer") &&
    (defer === undefined || (Array.isArray(defer) && defer.every((part) => (DEFERRABLE as readonly unknown[]).includes(part))));
  if (!valid) {
    throw new NotebookError(`${path}: metadata.labbook.kubernetes must be true, false or { "defer": [${DEFERRABLE.map((p) => `"${p}"`).join(", ")}] }, not ${JSON.stringify(wanted)}`);
  }
  return defer === undefined ? {} : { defer: [...new Set(defer as DeferrableComponent[])] };
}

/** The lab's own declarations, to carry into a notebook built from it (grading's), and nothing else. */
export function privilegedOf(notebook: Notebook): { privileged?: string; kubernetes?: unknown } {
  const { privileged, kubernetes } = declared(notebook);
  return { ...(privileged === undefined ? {} : { privileged: privileged as string }), ...(kubernetes === true || (typeof kubernetes === "object" && kubernetes !== null) ? { kubernetes } : {}) };
}

function declared(notebook: Notebook): { privileged?: unknown; kubernetes?: unknown } {
  return (notebook.metadata.labbook as { privileged?: unknown; kubernetes?: unknown } | null | undefined) ?? {};
}
