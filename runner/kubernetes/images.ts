// labbook's container images, made here from Debian's packages and labbook's Go programs
// (infra/go/labbook) and never pulled: nodes reach no registry, so each image is a docker-archive
// that `ctr -n k8s.io images import` loads. Pods name them with a fixed tag, so the kubelet's
// default pull policy (IfNotPresent) finds them and never tries to pull.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TarEntry } from "../host/tar.ts";
import { ARCHIVE_FORMAT, dockerArchive, ociArchitecture, sha256, type ImageSpec } from "./image-archive.ts";

export interface ImageInputs {
  /** The pause program (infra/go/labbook/cmd/pause), static. */
  pause: string;
  /** The test pod's HTTP server (infra/go/labbook/cmd/probe), static. */
  probe: string;
  /** CoreDNS, static. */
  coredns: string;
  /** Debian's busybox-static, which also lists its applets when run; default /bin/busybox. */
  busybox?: string;
}

export const IMAGE_REFS = ["labbook/pause:1", "labbook/busybox:1", "labbook/probe:1", "labbook/coredns:1"] as const;
export type ImageRef = (typeof IMAGE_REFS)[number];

// Busybox's sh and the kubelet's exec probes look commands up on PATH; the image config is where a
// container's environment starts.
const ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];

function executable(path: string, source: string): TarEntry {
  return { path, type: "file", mode: 0o755, content: readFileSync(source) };
}

/** What every image but pause has: root and nobody (a pod's runAsUser: 65534 gets a name), /tmp, /root. */
export function baseLayer(): TarEntry[] {
  return [
    { path: "etc/passwd", type: "file", mode: 0o644, content: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n" },
    { path: "etc/group", type: "file", mode: 0o644, content: "root:x:0:\nnobody:x:65534:\n" },
    { path: "tmp", type: "directory", mode: 0o1777 },
    { path: "root", type: "directory", mode: 0o700 },
  ];
}

/** /bin/busybox and a symlink to it per applet, as `busybox --install -s /bin` would make them. */
function busyboxLayer(busybox: string): TarEntry[] {
  const applets = execFileSync(busybox, ["--list"], { encoding: "utf8" })
    .split("\n")
    .filter((name) => name !== "" && name !== "busybox");
  const odd = applets.find((name) => name.includes("/"));
  if (odd !== undefined) throw new Error(`${busybox} --list named "${odd}", not an applet: is it busybox?`);
  return [executable("bin/busybox", busybox), ...applets.map((name): TarEntry => ({ path: `bin/${name}`, type: "symlink", mode: 0o777, target: "busybox" }))];
}

function imageSpecs(inputs: ImageInputs): Record<ImageRef, ImageSpec> {
  const base = baseLayer();
  const busybox = busyboxLayer(inputs.busybox ?? "/bin/busybox");
  // Images share their lower layers byte for byte, so containerd stores them once.
  return {
    "labbook/pause:1": { ref: "labbook/pause:1", layers: [[executable("pause", inputs.pause)]], entrypoint: ["/pause"], env: ENV },
    "labbook/busybox:1": { ref: "labbook/busybox:1", layers: [base, busybox], cmd: ["sh"], env: ENV },
    "labbook/probe:1": { ref: "labbook/probe:1", layers: [base, busybox, [executable("probe", inputs.probe)]], entrypoint: ["/probe"], env: ENV, exposedPorts: ["80/tcp"] },
    "labbook/coredns:1": { ref: "labbook/coredns:1", layers: [base, [executable("coredns", inputs.coredns)]], entrypoint: ["/coredns"], env: ENV, exposedPorts: ["53/tcp", "53/udp"] },
  };
}

/** "labbook/busybox:1" is busybox_1.tar. */
export function archiveFileName(ref: string): string {
  const colon = ref.lastIndexOf(":");
  const name = ref.slice(0, colon).split("/").pop();
  return `${name}_${ref.slice(colon + 1)}.tar`;
}

/**
 * What decides an archive's bytes: the spec, with each file's content as its sha256, the archive
 * format and the CPU. Cheaper than building the archive, and any change to inputs or layout shows.
 */
function specKey(spec: ImageSpec): string {
  const layers = spec.layers.map((entries) => entries.map((entry) => (Buffer.isBuffer(entry.content) ? { ...entry, content: { sha256: sha256(entry.content) } } : entry)));
  return sha256(JSON.stringify({ format: ARCHIVE_FORMAT, architecture: ociArchitecture(), spec: { ...spec, layers } }));
}

/**
 * Writes each image's archive into outDir as <name>_<tag>.tar, in IMAGE_REFS' order. An archive is
 * left alone when its stamp, <archive>.<key>.stamp, names the same inputs and records its size;
 * `written` says which were (re)made, e.g. to import only those.
 */
export function buildImages(inputs: ImageInputs, outDir: string): { ref: ImageRef; archive: string; written: boolean }[] {
  mkdirSync(outDir, { recursive: true });
  const specs = imageSpecs(inputs);
  return IMAGE_REFS.map((ref) => {
    const file = archiveFileName(ref);
    const archive = join(outDir, file);
    const stamp = `${archive}.${specKey(specs[ref])}.stamp`;
    if (existsSync(stamp) && existsSync(archive) && statSync(archive).size === Number(readFileSync(stamp, "utf8"))) return { ref, archive, written: false };
    const bytes = dockerArchive(specs[ref]);
    const partial = `${archive}.partial-${process.pid}`;
    writeFileSync(partial, bytes);
    renameSync(partial, archive); // an importer never reads half an archive
    for (const old of readdirSync(outDir)) if (old.startsWith(`${file}.`) && old.endsWith(".stamp")) rmSync(join(outDir, old));
    writeFileSync(stamp, String(bytes.length));
    return { ref, archive, written: true };
  });
}
