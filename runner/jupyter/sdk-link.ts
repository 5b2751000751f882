// Notebooks `import ... from "labbook"`: tslab resolves it like Node 10, from the notebook's
// folder up through <repo>/node_modules/labbook -> .. and package.json's dist/ entry points.
import { existsSync, lstatSync, realpathSync, symlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LabbookError } from "../errors.ts";

/** This checkout, with a trailing slash. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Creates <root>/node_modules/labbook -> .. unless something is there already; returns its path. */
export function linkSdkPackage(root: string): string {
  const link = join(root, "node_modules", "labbook");
  try {
    lstatSync(link);
  } catch {
    symlinkSync("..", link);
  }
  return link;
}

/** Checks that the SDK is built and that "labbook" resolves to this checkout (linking it if need be). */
export function ensureSdkForNotebooks(): void {
  const missing = ["dist/sdk/index.js", "dist/sdk/index.d.ts"].filter((file) => !existsSync(join(REPO_ROOT, file)));
  if (missing.length > 0) throw new LabbookError(`the notebook SDK is not built (${missing.join(", ")} missing): run "npm run build" in ${REPO_ROOT}`);
  const link = linkSdkPackage(REPO_ROOT); // what npm run build does
  let target: string | undefined;
  try {
    target = realpathSync(link);
  } catch {
    target = undefined;
  }
  if (target !== realpathSync(REPO_ROOT)) {
    throw new LabbookError(`${link} does not lead to this checkout: remove it and run "npm run build" in ${REPO_ROOT}`);
  }
}

/**
 * Why `import ... from "labbook"` would not reach this checkout's SDK from notebooks in `dir`, or undefined
 * when it does. Resolution walks up from the folder as Node's does: the first node_modules/labbook decides.
 */
export function sdkLinkProblem(dir: string): string | undefined {
  const checkout = realpathSync(REPO_ROOT);
  for (let at = resolve(dir); ; at = dirname(at)) {
    const link = join(at, "node_modules", "labbook");
    if (existsSync(link)) {
      const target = realpathSync(link);
      return target === checkout ? undefined : `"labbook" resolves from ${dir} to ${target}, another copy of labbook than this one (${checkout})`;
    }
    if (dirname(at) === at) return `"labbook" does not resolve from ${dir}: no node_modules/labbook in it or a folder above it`;
  }
}

/** Throws, naming the fix, when notebooks in any of `dirs` could not import the SDK. */
export function assertSdkResolves(dirs: string[], what: string): void {
  const problems = [...new Set(dirs.map((d) => resolve(d)))].flatMap((dir) => {
    const problem = sdkLinkProblem(dir);
    return problem ? [`${problem}: run "labbook init ${dir}" once (it links the SDK there; a course folder's root is enough)`] : [];
  });
  if (problems.length === 0) return;
  const error = new LabbookError(`${what}: the notebooks cannot import "labbook":\n${problems.map((p) => `  ${p}`).join("\n")}`);
  error.exitCode = 2; // bad input, found before anything started
  throw error;
}
