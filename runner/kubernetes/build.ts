// Builds everything labbook's Kubernetes runs, from the Go module proxy at pinned versions, into a cache
// outside the checkout that is keyed by the build's inputs: a fresh clone on the same machine reuses it,
// and so does CI. Go's own build cache (~/.cache/go-build) keeps a rebuild after a change to minutes.
import { createHash } from "node:crypto";
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { LabbookError } from "../errors.ts";
import { runCommand } from "./command.ts";
import { buildContainerdTemplate } from "./containerd-template.ts";
import { buildImages } from "./images.ts";
import { COREDNS_VERSION, FLANNEL_CNI_VERSION, FLANNEL_VERSION, KUBERNETES_VERSION, MINIMUM_GO } from "./versions.ts";

const GO_SOURCES = fileURLToPath(new URL("../../infra/go/", import.meta.url));
const VERSIONS_FILE = fileURLToPath(new URL("./versions.ts", import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);

/** The names the one `kube` binary answers to (infra/go/kube/main.go). */
export const KUBE_COMPONENTS = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl", "kubeadm"] as const;

export interface KubernetesBuild {
  version: string;
  /** The build's folder; nodes see it read-only, as part of the host's files. */
  dir: string;
  bin: { kube: string; coredns: string; flanneld: string; flannelCni: string; pause: string; probe: string };
  images: Array<{ ref: string; archive: string }>;
  /** The images imported into a containerd root, which every node copies (containerd-template.ts). */
  containerdRoot: string;
}

export function cacheRoot(): string {
  return process.env.LABBOOK_CACHE_DIR ?? "/var/cache/labbook";
}

function buildsDir(): string {
  return join(cacheRoot(), "kubernetes");
}

/** Everything the output depends on: the pins, our Go sources, this file, and the Go toolchain. */
function buildKey(goVersion: string): string {
  const hash = createHash("sha256").update(goVersion).update(readFileSync(VERSIONS_FILE)).update(readFileSync(THIS_FILE));
  for (const file of filesUnder(GO_SOURCES)) hash.update(relative(GO_SOURCES, file)).update(readFileSync(file));
  return hash.digest("hex").slice(0, 12);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));
}

function layout(dir: string): KubernetesBuild {
  const bin = join(dir, "bin");
  const manifest = join(dir, "images.json");
  return {
    version: KUBERNETES_VERSION,
    dir,
    bin: { kube: join(bin, "kube"), coredns: join(bin, "coredns"), flanneld: join(bin, "flanneld"), flannelCni: join(bin, "flannel"), pause: join(bin, "pause"), probe: join(bin, "probe") },
    images: existsSync(manifest) ? (JSON.parse(readFileSync(manifest, "utf8")) as KubernetesBuild["images"]) : [],
    containerdRoot: join(dir, "containerd"),
  };
}

/** The Go toolchain's version ("1.26.8"), or a LabbookError that says what to install. */
export async function goVersion(): Promise<string> {
  let out: string;
  try {
    out = await runCommand("go", ["env", "GOVERSION"], { env: goEnv() });
  } catch {
    throw new LabbookError(`Kubernetes is built from Go modules and needs Go ${MINIMUM_GO} or newer, and no \`go\` is on PATH: install it (https://go.dev/doc/install; Debian 12's golang-go is 1.19, too old) and run again`);
  }
  const version = out.trim().replace(/^go/, "");
  if (compareVersions(version, MINIMUM_GO) < 0) {
    throw new LabbookError(`Kubernetes is built with Go ${MINIMUM_GO} or newer (flannel ${FLANNEL_VERSION}'s go.mod asks for it); this machine has Go ${version}: install a newer Go and run again`);
  }
  return version;
}

function compareVersions(a: string, b: string): number {
  const [pa, pb] = [a, b].map((v) => v.split(/[.a-z]/).map((n) => Number(n) || 0));
  for (let i = 0; i < 3; i++) if ((pa![i] ?? 0) !== (pb![i] ?? 0)) return (pa![i] ?? 0) - (pb![i] ?? 0);
  return 0;
}

/** The finished build for this checkout's pins, if there is one; never builds. */
export function currentBuild(goVersionText?: string): KubernetesBuild | undefined {
  const root = buildsDir();
  if (!existsSync(root)) return undefined;
  if (goVersionText) {
    const dir = join(root, `${KUBERNETES_VERSION}-${buildKey(goVersionText)}`);
    return existsSync(join(dir, ".complete")) ? layout(dir) : undefined;
  }
  // Without asking Go (status, up): the newest complete build of the pinned version.
  const candidates = readdirSync(root)
    .filter((d) => d.startsWith(`${KUBERNETES_VERSION}-`) && existsSync(join(root, d, ".complete")))
    .map((d) => join(root, d))
    .sort((a, b) => statSync(join(b, ".complete")).mtimeMs - statSync(join(a, ".complete")).mtimeMs);
  return candidates[0] ? layout(candidates[0]) : undefined;
}

/** The build, or an error that names the command that makes it. */
export function requireBuild(): KubernetesBuild {
  const build = currentBuild();
  if (!build) {
    throw new LabbookError(`Kubernetes ${KUBERNETES_VERSION} is not built on this machine yet: run "labbook kubernetes build" (about 15 minutes on 2 cores the first time; sudo infra/setup.sh does it too)`);
  }
  return build;
}

export interface BuildOptions {
  onProgress?: (message: string) => void;
  /** Build again even if a complete build with the same inputs exists. */
  force?: boolean;
}

/** Builds what is missing; returns at once when the cache already holds this build. */
export async function buildKubernetes({ onProgress = () => {}, force = false }: BuildOptions = {}): Promise<KubernetesBuild> {
  const go = await goVersion();
  const existing = force ? undefined : currentBuild(go);
  if (existing) {
    onProgress(`Kubernetes ${KUBERNETES_VERSION} is built (cached in ${existing.dir})`);
    return existing;
  }
  const dir = join(buildsDir(), `${KUBERNETES_VERSION}-${buildKey(go)}`);
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, "bin"), { recursive: true });
  const out = layout(staging);
  const started = Date.now();
  onProgress(`building Kubernetes ${KUBERNETES_VERSION}, CoreDNS ${COREDNS_VERSION} and flannel ${FLANNEL_VERSION} with Go ${go} into ${dir} (the first build takes about 15 minutes on 2 cores; later ones reuse Go's cache)`);
  try {
    await step(onProgress, `kube: kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl and kubeadm in one binary`, () =>
      goBuild(join(GO_SOURCES, "kube"), ".", out.bin.kube, { ldflags: kubeVersionFlags(), cgo: false }),
    );
    await step(onProgress, `labbook's pause and probe programs`, async () => {
      await goBuild(join(GO_SOURCES, "labbook"), "./cmd/pause", out.bin.pause, { cgo: false });
      await goBuild(join(GO_SOURCES, "labbook"), "./cmd/probe", out.bin.probe, { cgo: false });
    });
    await step(onProgress, `CoreDNS ${COREDNS_VERSION}`, () => goInstall(`github.com/coredns/coredns@${COREDNS_VERSION}`, "coredns", out.bin.coredns, { cgo: false }));
    await step(onProgress, `flannel's CNI plugin (containernetworking/plugins ${FLANNEL_CNI_VERSION})`, () =>
      goInstall(`github.com/containernetworking/plugins/plugins/meta/flannel@${FLANNEL_CNI_VERSION}`, "flannel", out.bin.flannelCni, { cgo: false }),
    );
    await step(onProgress, `flanneld ${FLANNEL_VERSION}`, () => buildFlanneld(out.bin.flanneld));
    await step(onProgress, `images (labbook/pause:1, labbook/busybox:1, labbook/probe:1, labbook/coredns:1)`, async () => {
      const images = buildImages({ pause: out.bin.pause, probe: out.bin.probe, coredns: out.bin.coredns }, join(staging, "images"));
      writeFileSync(join(staging, "images.json"), JSON.stringify(images.map((i) => ({ ref: i.ref, archive: join(dir, relative(staging, i.archive)) })), null, 2));
      await buildContainerdTemplate(images.map((i) => i.archive), out.containerdRoot);
    });
    writeFileSync(join(staging, ".complete"), `${new Date().toISOString()}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  removeOtherBuilds(dir);
  onProgress(`built in ${formatDuration(Date.now() - started)}: ${dir}`);
  return layout(dir);
}

/** Older builds of other inputs: each is some 400 MB. */
function removeOtherBuilds(keep: string): void {
  for (const entry of readdirSync(buildsDir())) {
    const path = join(buildsDir(), entry);
    if (path !== keep && !entry.includes(".partial-")) rmSync(path, { recursive: true, force: true });
  }
}

async function step(onProgress: (message: string) => void, what: string, work: () => Promise<void>): Promise<void> {
  const started = Date.now();
  onProgress(`building ${what}`);
  // A heartbeat, so a CI log shows the build is alive through its longest step.
  const timer = setInterval(() => onProgress(`  still building (${formatDuration(Date.now() - started)})`), 60_000);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  onProgress(`  done in ${formatDuration(Date.now() - started)}`);
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

/** `kubectl version` and `kubelet --version` report the release, not v0.0.0 (Kubernetes' hack/lib/version.sh sets the same). */
function kubeVersionFlags(): string {
  const [, major, minor] = /^v(\d+)\.(\d+)/.exec(KUBERNETES_VERSION)!;
  return ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]
    .flatMap((pkg) => [`-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`, `-X ${pkg}.gitMajor=${major}`, `-X ${pkg}.gitMinor=${minor}`, `-X ${pkg}.gitTreeState=clean`])
    .join(" ");
}

interface GoOptions {
  ldflags?: string;
  cgo: boolean;
}

/** Never a toolchain download, and never an update of a pinned version. */
function goEnv(cgo = false): NodeJS.ProcessEnv {
  // -buildvcs=false: the checkout's commit must not land in the binaries, or every commit would change them.
  return { ...process.env, GOTOOLCHAIN: "local", CGO_ENABLED: cgo ? "1" : "0", GOFLAGS: `${process.env.GOFLAGS ?? ""} -trimpath -buildvcs=false`.trim() };
}

async function goBuild(moduleDir: string, pkg: string, output: string, { ldflags = "", cgo }: GoOptions, extraFlags: string[] = ["-mod=readonly"]): Promise<void> {
  await runCommand("go", ["build", ...extraFlags, "-ldflags", `-s -w ${ldflags}`.trim(), "-o", output, pkg], { cwd: moduleDir, env: goEnv(cgo) });
}

/** `go install module/pkg@version`, for modules without replace lines, into `output`. */
async function goInstall(target: string, binary: string, output: string, { cgo }: GoOptions): Promise<void> {
  const gobin = join(tmpdir(), `labbook-gobin-${process.pid}`);
  mkdirSync(gobin, { recursive: true });
  try {
    await runCommand("go", ["install", "-ldflags", "-s -w", target], { env: { ...goEnv(cgo), GOBIN: gobin } });
    renameOrCopy(join(gobin, binary), output);
  } finally {
    rmSync(gobin, { recursive: true, force: true });
  }
}

function renameOrCopy(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch {
    cpSync(from, to);
    chmodSync(to, 0o755);
  }
}

/**
 * flanneld, from flannel's own module at its pinned version, less one backend: the Go module proxy refuses
 * the Tencent Cloud SDK that flannel's tencentvpc backend imports (403), so `go install` of flannel fails
 * here. The build copies flannel's module, drops that one import from its main.go and that one requirement
 * from its go.mod, and builds everything else as flannel pins it. cgo is on: the udp backend is C.
 */
async function buildFlanneld(output: string): Promise<void> {
  const source = (await runCommand("go", ["mod", "download", "-json", `github.com/flannel-io/flannel@${FLANNEL_VERSION}`], { env: goEnv() })).match(/"Dir":\s*"([^"]+)"/)?.[1];
  if (!source) throw new LabbookError(`flannel ${FLANNEL_VERSION}: go mod download gave no source folder`);
  const work = join(tmpdir(), `labbook-flannel-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  cpSync(source, work, { recursive: true });
  try {
    for (const file of filesUnder(work)) chmodSync(file, 0o644); // the module cache is read-only
    const main = join(work, "main.go");
    const text = readFileSync(main, "utf8");
    const dropped = text.replace(/^\s*_ "github.com\/flannel-io\/flannel\/pkg\/backend\/tencentvpc"\n/m, "");
    if (dropped === text) throw new LabbookError(`flannel ${FLANNEL_VERSION}: main.go no longer imports the tencentvpc backend; update runner/kubernetes/build.ts`);
    writeFileSync(main, dropped);
    await runCommand("go", ["mod", "edit", "-droprequire", "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc"], { cwd: work, env: goEnv() });
    await goBuild(work, ".", output, { ldflags: `-X github.com/flannel-io/flannel/pkg/version.Version=${FLANNEL_VERSION}`, cgo: true }, ["-mod=mod"]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
