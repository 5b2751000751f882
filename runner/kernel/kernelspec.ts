// The Jupyter kernelspec for labbook's patched tslab kernel. Jupyter finds a kernel by the
// name of its directory, and the labs' notebooks name "labbook-tslab" in their metadata.
// Written directly (no python, no `jupyter kernelspec`): a kernelspec is one kernel.json.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LabbookError } from "../errors.ts";
import { snapshotArgs } from "./snapshot.ts";

export const KERNEL_NAME = "labbook-tslab";
export const KERNEL_DISPLAY_NAME = "TypeScript (labbook)";
export const KERNEL_LANGUAGE = "typescript";

/** The launcher Jupyter runs: tslab with labbook's zeromq fixes (see launcher.cjs). */
export const LAUNCHER_PATH = fileURLToPath(new URL("./launcher.cjs", import.meta.url));

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  env?: Record<string, string>;
}

/** Where a kernelspec goes: `prefix` wins, then `user`; by default the system location. */
export interface KernelSpecLocation {
  /** Install into PREFIX/share/jupyter/kernels/ (like `jupyter kernelspec install --prefix`). */
  prefix?: string;
  /** Install into the user's Jupyter data directory. */
  user?: boolean;
}

/**
 * kernel.json: the running Node.js binary (absolute, so Jupyter does not depend on PATH)
 * runs the launcher. The state directory travels along when it is not the default, so a
 * notebook finds the clusters `labbook up` made.
 */
export function kernelSpec(env: NodeJS.ProcessEnv = process.env, warm = true): KernelSpec {
  const spec: KernelSpec = {
    // From the warm snapshot when `warm` and there is a usable one now (snapshot.ts). Only for kernelspecs that
    // live no longer than the snapshot stays current (labbook notebook writes its own at each start): Node
    // refuses a snapshot another build of it made, and one deleted, so a lasting kernelspec starts the usual way.
    argv: [process.execPath, ...(warm ? snapshotArgs() : []), LAUNCHER_PATH, "kernel", "--config-path", "{connection_file}"],
    display_name: KERNEL_DISPLAY_NAME,
    language: KERNEL_LANGUAGE,
  };
  const stateDir = env.LABBOOK_STATE_DIR;
  if (stateDir) spec.env = { LABBOOK_STATE_DIR: stateDir };
  return spec;
}

/** Jupyter's per-user data directory, as jupyter_core computes it on Linux. */
export function userDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  return join(env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "jupyter");
}

/** The `kernels` directory a location stands for. Not root and no option: the user's. */
export function kernelsDir(location: KernelSpecLocation = {}): string {
  if (location.prefix !== undefined) return join(resolve(location.prefix), "share", "jupyter", "kernels");
  const root = process.getuid?.() === 0;
  if (location.user || !root) return join(userDataDir(), "kernels");
  return "/usr/local/share/jupyter/kernels";
}

export function kernelSpecDir(location: KernelSpecLocation = {}): string {
  return join(kernelsDir(location), KERNEL_NAME);
}

/** Writes KERNEL_NAME/kernel.json into the location and returns that directory. */
export function installKernelSpec(location: KernelSpecLocation = {}, env: NodeJS.ProcessEnv = process.env, warm = true): string {
  const dir = kernelSpecDir(location);
  const file = join(dir, "kernel.json");
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    // Replaced atomically: a Jupyter listing kernels meanwhile never reads half a file.
    writeFileSync(`${file}.tmp`, `${JSON.stringify(kernelSpec(env, warm), null, 2)}\n`, { mode: 0o644 });
    renameSync(`${file}.tmp`, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
      throw new LabbookError(`cannot write the kernelspec to ${dir} (${code}): run as root, or use --user or --prefix DIR`);
    }
    throw error;
  }
  return dir;
}
