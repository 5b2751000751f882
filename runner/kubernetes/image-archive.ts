// A container image as a docker-archive: the tar `docker save` writes and `ctr images import` reads
// (as `kind load image-archive` does), so images made here reach containerd without a registry.
// Output is deterministic: mtimes are 0, owners root unless given, entries sorted by path. The same
// spec gives the same bytes, hence the same image ID, on every machine of one architecture.
import { createHash } from "node:crypto";
import { posix } from "node:path";
import { tarArchive, type TarEntry } from "../host/tar.ts";

export interface ImageSpec {
  /** The name and tag to import it under, e.g. "labbook/busybox:1" (containerd stores docker.io/labbook/busybox:1). */
  ref: string;
  /** More names for the same image, in the archive's RepoTags: `ctr images import` records each one. */
  alsoTagged?: string[];
  /** Each layer's entries, the lowest first. Paths are relative; missing parent directories are added, 0755. */
  layers: TarEntry[][];
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  /** e.g. ["80/tcp"]: documentation only, as in a Dockerfile's EXPOSE; pods publish their own ports. */
  exposedPorts?: string[];
}

/** Bump when dockerArchive writes other bytes for the same spec: stamps of built archives include it. */
export const ARCHIVE_FORMAT = 1;

// Node's names for the CPU against the OCI image spec's (GOARCH's): containerd only runs an image
// whose architecture matches the node's.
const OCI_ARCHITECTURES: Partial<Record<NodeJS.Architecture, string>> = { x64: "amd64", arm64: "arm64" };

export function ociArchitecture(arch: NodeJS.Architecture = process.arch): string {
  const name = OCI_ARCHITECTURES[arch];
  if (name === undefined) throw new Error(`no OCI architecture known for Node's "${arch}": labbook's images are built for amd64 and arm64`);
  return name;
}

export function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

const byPath = (a: TarEntry, b: TarEntry): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

function checkPath(path: string): void {
  const parts = path.split("/");
  if (path === "" || path.startsWith("/") || parts.some((part) => part === "" || part === "." || part === ".."))
    throw new Error(`an image path is relative and plain, without "", "." or ".." parts: "${path}"`);
}

/**
 * A tar that depends only on its entries: sorted (so each parent directory comes before what it
 * holds), missing parents added, mtimes 0 unless given. Both a layer and the archive around the
 * layers are one. (An unpacker would create missing parents too, but with modes of its own choosing.)
 */
export function reproducibleTar(entries: TarEntry[]): Buffer {
  const all = new Map<string, TarEntry>();
  for (const entry of entries) {
    checkPath(entry.path);
    if (all.has(entry.path)) throw new Error(`two entries for "${entry.path}" in one layer`);
    all.set(entry.path, { ...entry, mtime: entry.mtime ?? 0 });
  }
  for (const path of [...all.keys()]) {
    for (let parent = posix.dirname(path); parent !== "."; parent = posix.dirname(parent)) {
      if (!all.has(parent)) all.set(parent, { path: parent, type: "directory", mode: 0o755, mtime: 0 });
    }
  }
  return tarArchive([...all.values()].sort(byPath));
}

/** The image's config blob; its sha256 is the image ID that `ctr images ls` and the kubelet show. */
function imageConfig(spec: Omit<ImageSpec, "layers">, diffIds: string[]): string {
  return JSON.stringify({
    architecture: ociArchitecture(),
    os: "linux",
    created: "1970-01-01T00:00:00Z", // fixed like the mtimes, so rebuilding changes nothing
    config: {
      Entrypoint: spec.entrypoint,
      Cmd: spec.cmd,
      Env: spec.env,
      WorkingDir: spec.workingDir,
      ExposedPorts: spec.exposedPorts && Object.fromEntries(spec.exposedPorts.map((port) => [port, {}])),
    },
    rootfs: { type: "layers", diff_ids: diffIds.map((id) => `sha256:${id}`) },
  });
}

/**
 * A docker-archive's manifest.json and image config, for layers stored as <diff_id>/layer.tar: what
 * dockerArchive writes around its layers, and what an archive of layers made elsewhere (by GNU tar,
 * too large to hold in memory) needs.
 */
export function archiveIndex(spec: Omit<ImageSpec, "layers">, diffIds: string[]): TarEntry[] {
  const config = imageConfig(spec, diffIds);
  const configName = `${sha256(config)}.json`;
  const manifest = [{ Config: configName, RepoTags: [spec.ref, ...(spec.alsoTagged ?? [])], Layers: diffIds.map((id) => `${id}/layer.tar`) }];
  return [
    { path: "manifest.json", type: "file", mode: 0o644, content: JSON.stringify(manifest) },
    { path: configName, type: "file", mode: 0o644, content: config },
  ];
}

/**
 * The docker-archive: manifest.json naming the config and layers, the config as <sha256>.json, each
 * layer as <sha256>/layer.tar, uncompressed, named by its diff_id (the layer tar's own sha256).
 */
export function dockerArchive(spec: ImageSpec): Buffer {
  const layers = spec.layers.map((entries) => {
    const tar = reproducibleTar(entries);
    return { tar, id: sha256(tar) };
  });
  const files = archiveIndex(spec, layers.map(({ id }) => id));
  // An image may hold the same layer twice (identical entries give identical bytes): one copy is enough.
  for (const { tar, id } of new Map(layers.map((layer) => [layer.id, layer])).values()) {
    files.push({ path: `${id}/layer.tar`, type: "file", mode: 0o644, content: tar });
  }
  return reproducibleTar(files);
}
