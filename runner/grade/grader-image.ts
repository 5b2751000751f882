// The grader's container image, for grading a class as a Kubernetes Job (infra/k8s/grade-indexed-job.yaml),
// built here from the checkout and from the Debian packages this machine has installed: no registry, no
// base image, no Dockerfile. A pod of it runs `labbook grade` exactly as the machine does, embedded clusters
// included, so it must hold what they run: the packages of infra/packages.txt and everything they depend on.
//
// Three layers, the slowest-changing first, so containerd keeps the lower ones when only labbook changes:
//  1. the files of those packages (closure of their dependencies, plus Debian's essential set), without
//     their documentation, and /etc as an embedded node sees it (infra/node-host-view.txt's secrets left out);
//  2. the password files without their hashes, and the empty directories a system and the embedded nodes'
//     private mounts need (/tmp, /run, /var/lib/kubelet...);
//  3. the checkout at /opt/labbook: its tracked files, dist/ (the SDK), node_modules/ and labbook's own Node.
// Layers 1 and 3 are hundreds of MB, so GNU tar writes them from file lists; layer 2 is made in memory.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { LabbookError } from "../errors.ts";
import { HOST_VIEW_FILE, privateDirs } from "../backend/netns/node-files.ts";
import { hiddenPaths, parseHostView, passwordFilesWithoutHashes } from "../backend/netns/host-view.ts";
import { requiredPackages } from "../host/packages.ts";
import { archiveIndex, reproducibleTar } from "../kubernetes/image-archive.ts";
import { runCommand } from "../kubernetes/command.ts";

/** Where the checkout is in the image; the image's working directory. */
export const GRADER_HOME = "/opt/labbook";
/** labbook's own Node, as infra/setup.sh installs it from npm (node-linux-<arch>); its bin/ is first on the image's PATH. */
const NODE_DIR = ".labbook/node";
const NODE_BIN = `${NODE_DIR}/node_modules/node-linux-${process.arch}/bin`;

/** What no grading reads. */
const LEFT_OUT = ["/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/share/locale/", "/usr/share/lintian/", "/usr/share/bug/"];

export interface GraderImage {
  /** e.g. labbook/grader:3f2a9c1d0b7e: the tag is the image config's hash, so a changed checkout is a new tag. */
  ref: string;
  /** The docker-archive `ctr -n k8s.io images import` (or `docker load`) reads. */
  archive: string;
  bytes: number;
  packages: number;
}

function lines(command: string, args: string[]): string[] {
  return execFileSync(command, args, { encoding: "utf8", maxBuffer: 256 << 20 }).split("\n").filter(Boolean);
}

/** The installed packages `roots` need, recursively, with Debian's base ones (a shell, coreutils, awk...). */
export function packageClosure(roots: string[]): string[] {
  const installed = new Map(
    lines("dpkg-query", ["-W", "-f", "${Package}\t${db:Status-Abbrev}\t${Essential}\t${Priority}\n"]).map((line) => {
      const [name, status, essential, priority] = line.split("\t");
      return [name!, { ok: status!.startsWith("ii"), base: essential === "yes" || priority === "required" }] as const;
    }),
  );
  const missing = roots.filter((name) => !installed.get(name)?.ok);
  if (missing.length > 0) throw new LabbookError(`the grader image is made from this machine's packages, and ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not installed: run infra/setup.sh first`);
  // What a minimal Debian system has (debootstrap's minbase: essential and required), so that a lab's shell
  // commands (awk, sed, grep...) find what they find on the machine.
  const essential = [...installed].filter(([, p]) => p.ok && p.base).map(([name]) => name);
  const listed = lines("apt-cache", ["depends", "--recurse", "--installed", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", ...roots, ...essential]);
  // Package names start a line; dependencies are indented; <virtual> names have no files of their own.
  const names = new Set(listed.filter((line) => !line.startsWith(" ") && !line.startsWith("<")).map((line) => line.trim().replace(/:.*$/, "")));
  return [...names].filter((name) => installed.get(name)?.ok).sort();
}

/** A path with its directories' symlinks resolved (/bin/bash on a merged-/usr system is /usr/bin/bash). */
function canonical(path: string): string | undefined {
  try {
    const parent = realpathSync(dirname(path));
    return parent === "/" ? `/${basename(path)}` : `${parent}/${basename(path)}`;
  } catch {
    return undefined;
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Every path under `dir` (itself included) that `keep` accepts, not descending into what it refuses. */
function walk(dir: string, keep: (path: string) => boolean, into: Set<string>): void {
  if (!keep(dir)) return;
  into.add(dir);
  const stat = lstatSync(dir);
  if (!stat.isDirectory()) return;
  for (const name of readdirSync(dir)) walk(join(dir, name), keep, into);
}

/** Layer 1's paths, absolute: the packages' files, the links update-alternatives made to them, /etc. */
function systemPaths(packages: string[]): string[] {
  const paths = new Set<string>();
  for (const line of lines("dpkg-query", ["-L", ...packages])) {
    if (!line.startsWith("/") || line === "/.") continue;
    if (LEFT_OUT.some((prefix) => line.startsWith(prefix))) continue;
    const path = canonical(line);
    if (path && exists(path) && !path.startsWith("/etc/")) paths.add(path);
  }
  // Merged /usr: /bin, /lib... are the host's symlinks into /usr.
  for (const name of readdirSync("/")) if (lstatSync(`/${name}`).isSymbolicLink() && realpathSync(`/${name}`).startsWith("/usr/")) paths.add(`/${name}`);
  // update-alternatives' links (/usr/sbin/iptables -> /etc/alternatives/iptables -> ...-nft) belong to no package.
  for (const dir of ["/usr/bin", "/usr/sbin"]) {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (lstatSync(path).isSymbolicLink() && readlinkSync(path).startsWith("/etc/alternatives/")) {
        const target = existsSync(path) ? realpathSync(path) : undefined;
        if (target && paths.has(target)) paths.add(path);
      }
    }
  }
  // /etc as an embedded node sees it: every secret the host view hides stays out, the password files too
  // (layer 2 has them without hashes).
  const hidden = new Set([...hiddenPaths(parseHostView(readFileSync(HOST_VIEW_FILE, "utf8"), HOST_VIEW_FILE), [], []), "/etc/shadow", "/etc/gshadow"]);
  walk("/etc", (path) => !hidden.has(path) && !lstatSync(path).isSocket() && !lstatSync(path).isFIFO(), paths);
  // Each path's directories come first, as the host has them.
  for (const path of [...paths]) for (let dir = dirname(path); dir !== "/"; dir = dirname(dir)) paths.add(dir);
  return [...paths].sort();
}

/** Layer 3's paths, relative to the checkout. */
function checkoutPaths(checkout: string): string[] {
  const tracked = existsSync(join(checkout, ".git")) ? lines("git", ["-C", checkout, "ls-files"]).filter((path) => exists(join(checkout, path))) : [];
  if (tracked.length === 0) throw new LabbookError(`${checkout} is not a git checkout: the grader image holds a checkout's tracked files`);
  const paths = new Set(tracked);
  for (const dir of ["dist", "node_modules", NODE_DIR]) {
    if (!existsSync(join(checkout, dir))) throw new LabbookError(`${join(checkout, dir)} is missing: run infra/setup.sh deps and npm run build first`);
    const found = new Set<string>();
    walk(join(checkout, dir), () => true, found);
    for (const path of found) paths.add(path.slice(checkout.length + 1));
  }
  for (const path of [...paths]) for (let dir = dirname(path); dir !== "."; dir = dirname(dir)) paths.add(dir);
  return [...paths].sort();
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** GNU tar of `paths` (relative to `from`), without recursing, times fixed, owners as numbers. */
async function tarLayer(from: string, paths: string[], file: string, transform?: string): Promise<void> {
  const list = `${file}.list`;
  writeFileSync(list, paths.map((path) => `${path}\0`).join(""));
  const args = ["--create", "--file", file, "--directory", from, "--no-recursion", "--null", "--files-from", list, "--numeric-owner", "--mtime=@0", "--format=posix", "--pax-option=delete=atime,delete=ctime"];
  if (transform) args.push(`--transform=${transform}`);
  await runCommand("tar", args, { what: `writing the grader image's layer ${basename(file)}` });
  rmSync(list);
}

/**
 * Builds the grader image's docker-archive in `outDir` (grader.tar) from `checkout`. Takes tens of seconds:
 * it writes the packages' files and the checkout, about 700 MB, once per call.
 */
export async function buildGraderImage(checkoutDir: string, outDir: string): Promise<GraderImage> {
  const checkout = resolve(checkoutDir);
  const packages = packageClosure(requiredPackages().map((p) => p.name));
  const work = join(outDir, `.grader-image-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const layerFiles = [join(work, "system.tar"), join(work, "accounts.tar"), join(work, "labbook.tar")];
    await tarLayer("/", systemPaths(packages).map((path) => path.slice(1)), layerFiles[0]!);
    writeFileSync(
      layerFiles[1]!,
      reproducibleTar([
        ...passwordFilesWithoutHashes(),
        ...["tmp", "var/tmp"].map((path) => ({ path, type: "directory" as const, mode: 0o1777 })),
        ...["run", "root", "var/log", "opt"].map((path) => ({ path, type: "directory" as const, mode: path === "root" ? 0o700 : 0o755 })),
        // The mount points of every embedded node's private directories, which `labbook up` checks.
        ...privateDirs().map((dir) => ({ path: dir.slice(1), type: "directory" as const, mode: 0o755 })),
      ]),
    );
    // S: node_modules' relative symlinks (.bin/*) keep their targets.
    await tarLayer(checkout, checkoutPaths(checkout), layerFiles[2]!, `s,^,${GRADER_HOME.slice(1)}/,S`);
    const ids = await Promise.all(layerFiles.map(fileSha256));
    const spec = {
      ref: "labbook/grader:pending",
      env: [`PATH=${GRADER_HOME}/${NODE_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`],
      workingDir: GRADER_HOME,
      cmd: ["node", "bin/labbook.js", "grade", "--help"],
    };
    const [, config] = archiveIndex(spec, ids);
    const ref = `labbook/grader:${config!.path.slice(0, 12)}`;
    const index = archiveIndex({ ...spec, ref }, ids);
    for (const entry of index) writeFileSync(join(work, entry.path), entry.content!);
    ids.forEach((id, index) => {
      mkdirSync(join(work, id));
      renameSync(layerFiles[index]!, join(work, id, "layer.tar"));
    });
    const archive = join(outDir, "grader.tar");
    await runCommand("tar", ["--create", "--file", `${archive}.partial`, "--directory", work, "--format=posix", "--mtime=@0", "--sort=name", ...index.map((entry) => entry.path), ...ids], { what: "writing the grader image's archive" });
    renameSync(`${archive}.partial`, archive);
    return { ref, archive, bytes: statSync(archive).size, packages: packages.length };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
