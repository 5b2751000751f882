// The warm kernel: a V8 startup snapshot of tslab with TypeScript loaded and its type libraries parsed
// (snapshot-entry.cjs says what is in it and why). Built into .labbook/kernel-snapshot/ by `npm run build`, or
// on the first kernel start that finds none; used while everything it was made from is unchanged (its
// manifest lists each file's size and time, and the Node.js binary). Otherwise kernels start the usual way.
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const CHECKOUT = fileURLToPath(new URL("../../", import.meta.url));
export const SNAPSHOT_DIR = join(CHECKOUT, ".labbook", "kernel-snapshot");
const ENTRY = fileURLToPath(new URL("./snapshot-entry.cjs", import.meta.url));
const BLOB = join(SNAPSHOT_DIR, "kernel.blob");
const MANIFEST = join(SNAPSHOT_DIR, "manifest.json");
/** LABBOOK_KERNEL_SNAPSHOT=0 starts every kernel the usual way (for comparison, or if a snapshot misbehaves). */
const DISABLE_VARIABLE = "LABBOOK_KERNEL_SNAPSHOT";

interface Manifest {
  node: string;
  execPath: string;
  files: Record<string, [number, number]>;
  libraries: number;
}

function readManifest(): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(MANIFEST, "utf8")) as Manifest;
  } catch {
    return undefined;
  }
}

/** Why the snapshot cannot be used, or undefined when it can. */
export function snapshotProblem(): string | undefined {
  if (process.env[DISABLE_VARIABLE] === "0") return `${DISABLE_VARIABLE}=0`;
  const manifest = readManifest();
  if (!manifest || !existsSync(BLOB)) return "not built";
  if (manifest.node !== process.version || manifest.execPath !== process.execPath) return `built with another Node.js (${manifest.node} at ${manifest.execPath})`;
  for (const [file, [mtimeMs, size]] of Object.entries(manifest.files)) {
    try {
      const stat = statSync(file);
      if (stat.mtimeMs !== mtimeMs || stat.size !== size) return `${file} changed since`;
    } catch {
      return `${file} is gone`;
    }
  }
  return undefined;
}

/** The snapshot's file, when kernels can start from it. */
export function kernelSnapshot(): string | undefined {
  return snapshotProblem() === undefined ? BLOB : undefined;
}

/** Node's options that start a kernel from the snapshot, or none. */
/**
 * A kernel from the snapshot starts with a 180 MB heap, and V8 ran its first full collection of it a cell or
 * two later: about 150 ms of a 10-cell notebook's 430 ms of CPU. A larger first limit puts that collection off
 * (cells' CPU 430 -> 285 ms, medians of 8); it costs about 16 MB more after 31 cells (266 -> 282 MB), since only
 * what is allocated is resident. Past the limit, collections come as usual.
 */
const FIRST_HEAP_LIMIT_MB = 512;

export function snapshotArgs(): string[] {
  const blob = kernelSnapshot();
  return blob ? [`--initial-heap-size=${FIRST_HEAP_LIMIT_MB}`, "--snapshot-blob", blob] : [];
}

/**
 * Builds the snapshot (about 3 s of CPU), unless a usable one exists. One build at a time across processes
 * (a lock file); a build that fails leaves none, and kernels start the usual way. Returns what happened.
 */
export function ensureKernelSnapshot(options: { force?: boolean } = {}): { built: boolean; problem?: string } {
  if (process.env[DISABLE_VARIABLE] === "0" || (!options.force && kernelSnapshot())) return { built: false };
  try {
    return buildSnapshot();
  } catch (error) {
    // A checkout this user cannot write (installed for a class, read-only): kernels start the usual way.
    return { built: false, problem: `the kernel snapshot cannot be built in ${SNAPSHOT_DIR}: ${(error as Error).message}` };
  }
}

function buildSnapshot(): { built: boolean; problem?: string } {
  mkdirSync(SNAPSHOT_DIR, { recursive: true });
  const lock = join(SNAPSHOT_DIR, "build.lock");
  let fd: number;
  try {
    // A lock older than any build is a killed builder's.
    if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 300_000) rmSync(lock, { force: true });
    fd = openSync(lock, "wx");
  } catch {
    // Another process builds it: this one's kernels start the usual way meanwhile.
    return { built: false, problem: "being built by another process" };
  }
  try {
    const tmpBlob = `${BLOB}.${process.pid}.tmp`;
    const tmpManifest = `${MANIFEST}.${process.pid}.tmp`;
    const build = spawnSync(process.execPath, ["--snapshot-blob", tmpBlob, "--build-snapshot", ENTRY], {
      cwd: CHECKOUT,
      env: { ...process.env, LABBOOK_SNAPSHOT_CHECKOUT: CHECKOUT, LABBOOK_SNAPSHOT_MANIFEST: tmpManifest },
      encoding: "utf8",
      timeout: 120_000,
    });
    if (build.status !== 0 || !existsSync(tmpBlob) || !existsSync(tmpManifest)) {
      rmSync(tmpBlob, { force: true });
      rmSync(tmpManifest, { force: true });
      const why = (build.stderr || build.error?.message || `exit ${build.status}`).split("\n").filter((line) => line && !/Warning|may still work|issue tracker|trace-warnings/.test(line)).slice(-3).join(" ");
      return { built: false, problem: `the kernel snapshot did not build: ${why}` };
    }
    renameSync(tmpBlob, BLOB);
    renameSync(tmpManifest, MANIFEST);
    return { built: true };
  } finally {
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}
