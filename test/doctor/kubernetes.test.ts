// The Kubernetes checks of `labbook doctor`: what each says, and the exact fix, against a cache and
// inputs made up here. No root, no cluster: these run with the unit tests.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  KUBERNETES_CGROUP_CONTROLLERS,
  checkBrNetfilter,
  checkCgroupControllers,
  checkGo,
  checkKubernetes,
  checkKubernetesBuild,
  checkKubernetesImages,
  checkOverlayFilesystem,
  type CheckResult,
} from "../../runner/doctor/checks.ts";
import { currentBuild } from "../../runner/kubernetes/build.ts";
import { KUBERNETES_VERSION, MINIMUM_GO } from "../../runner/kubernetes/versions.ts";

/** A Kubernetes check that fails is a warning: the embedded cluster runs without Kubernetes. */
function assertWarning(result: CheckResult, fix: string | RegExp): void {
  assert.equal(result.ok, false, JSON.stringify(result));
  assert.equal(result.warning, true, `${result.name} must be a warning, not a failure`);
  if (typeof fix === "string") assert.equal(result.fix, fix);
  else assert.match(result.fix ?? "", fix);
}

describe("doctor: Kubernetes", () => {
  let scratch: string;
  const saved = { cache: process.env.LABBOOK_CACHE_DIR, path: process.env.PATH };

  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), "labbook-doctor-k8s-"));
    process.env.LABBOOK_CACHE_DIR = join(scratch, "cache");
    mkdirSync(process.env.LABBOOK_CACHE_DIR);
  });
  afterEach(() => {
    if (saved.cache === undefined) delete process.env.LABBOOK_CACHE_DIR;
    else process.env.LABBOOK_CACHE_DIR = saved.cache;
    process.env.PATH = saved.path;
    rmSync(scratch, { recursive: true, force: true });
  });

  /** A complete build in the cache, as `labbook kubernetes build` leaves it; `images` archives are created. */
  function fakeBuild(options: { images?: string[]; listed?: string[]; bin?: string[]; containerdRoot?: boolean } = {}): string {
    const dir = join(process.env.LABBOOK_CACHE_DIR!, "kubernetes", `${KUBERNETES_VERSION}-000000000000`);
    mkdirSync(join(dir, "bin"), { recursive: true });
    if (options.containerdRoot !== false) mkdirSync(join(dir, "containerd", "io.containerd.metadata.v1.bolt"), { recursive: true });
    mkdirSync(join(dir, "images"));
    for (const file of options.bin ?? ["kube", "coredns", "flanneld", "flannel", "pause", "probe"]) writeFileSync(join(dir, "bin", file), "");
    const listed = options.listed ?? ["pause", "busybox"];
    for (const image of options.images ?? listed) writeFileSync(join(dir, "images", `${image}_1.tar`), "");
    writeFileSync(join(dir, "images.json"), JSON.stringify(listed.map((image) => ({ ref: `labbook/${image}:1`, archive: join(dir, "images", `${image}_1.tar`) }))));
    writeFileSync(join(dir, ".complete"), "now\n");
    return dir;
  }

  /** A `go` on PATH (alone) that reports `version`. */
  function fakeGo(version: string): void {
    const bin = join(scratch, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "go"), `#!/bin/sh\necho go${version}\n`);
    chmodSync(join(bin, "go"), 0o755);
    process.env.PATH = `${bin}:/usr/bin:/bin`;
  }

  it("names `labbook kubernetes build` when the cache is empty", () => {
    const build = checkKubernetesBuild();
    assertWarning(build, "labbook kubernetes build");
    assert.match(build.name, new RegExp(KUBERNETES_VERSION.replace(/\./g, "\\.")));
    assert.match(build.detail, /not built in .*\/kubernetes: labbook up --kubernetes cannot start/);
    assertWarning(checkKubernetesImages(), "labbook kubernetes build");
  });

  it("accepts a complete build with its binaries and image archives", () => {
    const dir = fakeBuild();
    const build = checkKubernetesBuild();
    assert.equal(build.ok, true, build.detail);
    assert.equal(build.detail, dir);
    const images = checkKubernetesImages();
    assert.equal(images.ok, true, images.detail);
    assert.equal(images.detail, "labbook/pause:1, labbook/busybox:1");
  });

  it("asks for a forced rebuild when a complete build lost files", () => {
    fakeBuild({ bin: ["kube", "coredns"] });
    const build = checkKubernetesBuild();
    assertWarning(build, "labbook kubernetes build --force");
    assert.match(build.detail, /lacks .*\/bin\/flanneld/);

    rmSync(join(process.env.LABBOOK_CACHE_DIR!, "kubernetes"), { recursive: true });
    fakeBuild({ listed: ["pause", "busybox"], images: ["pause"] });
    const images = checkKubernetesImages();
    assertWarning(images, "labbook kubernetes build --force");
    assert.match(images.detail, /^missing labbook\/busybox:1 \(.*busybox_1\.tar\)$/);

    rmSync(join(process.env.LABBOOK_CACHE_DIR!, "kubernetes"), { recursive: true });
    fakeBuild({ containerdRoot: false });
    const root = checkKubernetesImages();
    assertWarning(root, "labbook kubernetes build --force");
    assert.match(root.detail, /containerd root, which each node copies\) is missing/);
  });

  it("says when the build is not the one of this checkout's inputs", () => {
    fakeBuild();
    const stale = checkKubernetesBuild("1.26.8"); // the fake build's key is no real key
    assertWarning(stale, "labbook kubernetes build");
    assert.match(stale.detail, /is not the build of this checkout's inputs .*labbook up --kubernetes runs it as it is/);
  });

  it("checks Go's version with goVersion(): missing, too old, new enough", async () => {
    process.env.PATH = join(scratch, "nothing");
    const missing = await checkGo(undefined);
    assertWarning(missing, /go\.dev|export PATH=\/usr\/local\/go\/bin/);

    fakeGo("1.19.8");
    const old = await checkGo(undefined);
    assertWarning(old, new RegExp(`install Go ${MINIMUM_GO.replace(".", "\\.")} or newer`));
    assert.match(old.detail, /this machine has Go 1\.19\.8/);

    fakeBuild();
    const withBuild = await checkGo(currentBuild());
    assert.match(withBuild.detail, /only a rebuild needs Go/);

    rmSync(join(scratch, "bin"), { recursive: true });
    fakeGo("1.26.8");
    const fine = await checkGo(undefined);
    assert.equal(fine.ok, true, fine.detail);
    assert.match(fine.detail, /^Go 1\.26\.8 /);
  });

  it("finds the overlay filesystem, br_netfilter and the cgroup v1 controllers, or says how to get them", () => {
    assert.equal(checkOverlayFilesystem("nodev\tsysfs\nnodev\toverlay\n").ok, true);
    assertWarning(checkOverlayFilesystem("nodev\tsysfs\n\text4\n"), "modprobe overlay");

    const bridge = join(scratch, "bridge");
    assertWarning(checkBrNetfilter(bridge), "modprobe br_netfilter");
    mkdirSync(bridge);
    writeFileSync(join(bridge, "bridge-nf-call-iptables"), "1\n");
    assert.equal(checkBrNetfilter(bridge).ok, true);

    const v1 = KUBERNETES_CGROUP_CONTROLLERS.filter((c) => c !== "pids" && c !== "cpuacct")
      .map((c) => `cgroup /sys/fs/cgroup/${c} cgroup rw,relatime,${c} 0 0`)
      .concat("cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,relatime,cpu,cpuacct 0 0")
      .join("\n");
    const lacking = checkCgroupControllers(v1);
    assertWarning(lacking, "mkdir -p /sys/fs/cgroup/pids && mount -t cgroup -o pids cgroup /sys/fs/cgroup/pids");
    assert.match(lacking.detail, /not mounted as cgroup v1: pids;/);
    assert.equal(checkCgroupControllers(`${v1}\ncgroup /sys/fs/cgroup/pids cgroup rw,pids 0 0\n`).ok, true);
    assertWarning(checkCgroupControllers("cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n"), /systemd\.unified_cgroup_hierarchy=0/);
  });

  it("reports every Kubernetes check, named as such, and none of them as a failure", async () => {
    const results = await checkKubernetes();
    assert.deepEqual(
      results.map((r) => r.name.replace(/\(.*\)/, "(...)")),
      ["Kubernetes: Go toolchain", `Kubernetes: ${KUBERNETES_VERSION} build`, "Kubernetes: images", "Kubernetes: kernel overlay filesystem", "Kubernetes: kernel br_netfilter", "Kubernetes: cgroup v1 controllers (...)"],
    );
    for (const r of results) assert.ok(r.ok || r.warning, `${r.name} fails doctor: ${r.detail}`);
    assert.equal(results[1]!.fix, "labbook kubernetes build", "the cache is empty here");
  });
});
