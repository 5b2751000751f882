// Kubernetes objects from a lab: the manifest goes to a file on the node, and `kubectl apply -f` it,
// shown as a person would type it, so the student can run it again or edit the file.
import type { Node } from "../cluster/node.ts";
import type { CommandResult } from "../cluster/result.ts";
import { sh } from "./show.ts";

/** Writes `manifest` (YAML) to `file` on `node` (under /root unless absolute), then prints and runs `kubectl apply -f` on it. */
export async function kubectlApply(node: Node, manifest: string, file: string): Promise<CommandResult> {
  const path = file.startsWith("/") ? file : `/root/${file}`;
  await node.put(Buffer.from(manifest), path);
  return sh(node, `kubectl apply -f ${path}`);
}
