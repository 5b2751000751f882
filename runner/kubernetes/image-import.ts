// Images of one's own on a labbook Kubernetes cluster (`labbook kubernetes import`): no registry is
// reachable, so a docker-archive is streamed into every node's containerd, and the admission policy that
// refuses images no node has (addons.ts, imagePolicy) learns its tags, so pods may name them.
import { execFileSync } from "node:child_process";
import { createReadStream, statSync } from "node:fs";
import type { Cluster } from "../cluster/cluster.ts";
import type { Node } from "../cluster/node.ts";
import { LabbookError } from "../errors.ts";
import { imagePolicy } from "./addons.ts";
import { kubernetesLayout } from "./layout.ts";

/** The tags a docker-archive's manifest.json names (`docker save`'s RepoTags; `labbook grader image` writes one). */
export function archiveTags(archive: string): string[] {
  let manifest: Array<{ RepoTags?: string[] | null }>;
  try {
    manifest = JSON.parse(execFileSync("tar", ["-xOf", archive, "manifest.json"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 16 << 20 })) as typeof manifest;
  } catch (error) {
    throw new LabbookError(`${archive} is not a docker-archive (no readable manifest.json: ${(error as Error).message.split("\n")[0]}): make one with "docker save IMAGE -o FILE" or "labbook grader image"`);
  }
  const tags = manifest.flatMap((image) => image.RepoTags ?? []);
  if (tags.length === 0) throw new LabbookError(`${archive} names no tag (manifest.json has no RepoTags): save the image by its name, "docker save NAME:TAG"`);
  return tags.map((tag) => tag.replace(/^docker\.io\//, ""));
}

/** The images the cluster's admission policy allows now, without their "docker.io/" twins. */
async function allowedImages(controlPlane: Node): Promise<string[]> {
  const expression = String(await controlPlane.run(`kubectl get validatingadmissionpolicy labbook-local-images-pods -o jsonpath='{.spec.variables[?(@.name=="local")].expression}'`)).trim();
  return [...expression.matchAll(/'([^']+)'/g)].map((match) => match[1]!).filter((image) => !image.startsWith("docker.io/"));
}

/** Imports each archive into every node's containerd, then allows its tags; returns the tags. */
export async function importImages(cluster: Cluster, archives: string[], onProgress: (message: string) => void = () => {}): Promise<string[]> {
  const tags = archives.flatMap(archiveTags);
  const controlPlane = cluster.node(kubernetesLayout(cluster.name, cluster.topology).controlPlane.name);
  for (const archive of archives) {
    onProgress(`importing ${archive} (${Math.round(statSync(archive).size / 1e6)} MB) into ${cluster.nodes.map((n) => n.name).join(", ")}...`);
    // Through each node's SSH channel, as stdin, streamed from the file (the grader's image is 760 MB): no copy
    // lands on a node's disk besides containerd's own, and none is held in labbook's memory.
    await Promise.all(cluster.nodes.map((node) => node.run("ctr -n k8s.io images import -", { input: createReadStream(archive) })));
  }
  const allowed = await allowedImages(controlPlane);
  const missing = tags.filter((tag) => !allowed.includes(tag));
  if (missing.length > 0) {
    await controlPlane.run("kubectl apply -f -", { input: imagePolicy([...allowed, ...missing]) });
    await untilAdmitted(controlPlane, missing);
  }
  return tags;
}

/**
 * The apiserver applies a changed admission policy a moment after it is stored (it watches them), so a pod
 * created at once could still be refused: wait until a server-side dry run of a Pod and of a Job admits each tag.
 */
async function untilAdmitted(controlPlane: Node, tags: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const tag of tags) {
    const tries = [`kubectl run labbook-admission-check --image=${tag} --restart=Never --dry-run=server -o name`, `kubectl create job labbook-admission-check --image=${tag} --dry-run=server -o name`];
    for (const command of tries) {
      for (;;) {
        const result = await controlPlane.run(command, { nothrow: true });
        if (result.ok) break;
        if (Date.now() > deadline) throw new LabbookError(`the image policy still refuses ${tag} after ${timeoutMs / 1000} s: ${result.stderr.trim()}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
}
