// A lab's own files beyond its notebook: the helpers its cells import (`./kube-proxy.js`) and anything
// else its folder holds for it. Students get them with the notebook (assign), and grading runs every
// notebook in a copy of them, never in the instructor's folder, whose notebook and source hold the
// solutions and the hidden checks.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { LabbookError } from "../errors.ts";
import { ownedTempDir } from "../host/temp-dirs.ts";
import { REPO_ROOT } from "../jupyter/sdk-link.ts";

const INSTRUCTOR_ONLY = [/\.lab\.ts$/, /\.ipynb$/];

/**
 * The files of the lab's folder that go with its notebook, as paths relative to it. Only a folder of its
 * own has any: beside other notebooks (a flat folder of labs), nothing is the lab's.
 */
export function labFiles(labPath: string): string[] {
  const dir = dirname(labPath);
  const notebooks = readdirSync(dir).filter((name) => name.endsWith(".ipynb"));
  if (notebooks.length !== 1 || notebooks[0] !== basename(labPath)) return [];
  const walk = (at: string): string[] =>
    readdirSync(at).flatMap((name) => {
      const path = join(at, name);
      if (name.startsWith(".") || name === "node_modules") return [];
      if (statSync(path).isDirectory()) return walk(path);
      return INSTRUCTOR_ONLY.some((pattern) => pattern.test(name)) ? [] : [relative(dir, path)];
    });
  return walk(dir).sort();
}

/** Copies the lab's files into `outDir`; a different file already there under the same name is an error, not overwritten. */
export function copyLabFiles(labPath: string, outDir: string): string[] {
  const files = labFiles(labPath).map((file) => ({ file, from: join(dirname(labPath), file), to: join(outDir, file) }));
  // All checked before any is written: a clash leaves the folder as it was.
  for (const { from, to } of files) {
    if (existsSync(to) && !readFileSync(to).equals(readFileSync(from))) {
      throw new LabbookError(`${to} exists and is not ${from}: two labs with a helper of the same name need folders of their own (--out)`);
    }
  }
  for (const { from, to } of files) {
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
  }
  return files.map(({ file }) => file);
}

/**
 * Where graded notebooks run: a scratch folder with the lab's files and a node_modules/labbook link to
 * this checkout (the SDK), readable by the sandbox's unprivileged user. Remove it with `rmSync`.
 */
export function stageLabFolder(labPath: string): string {
  const dir = ownedTempDir("grade");
  try {
    copyLabFiles(labPath, dir);
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(REPO_ROOT, join(dir, "node_modules", "labbook"));
    chmodSync(dir, 0o755); // mkdtemp makes it 700: the sandboxed kernel runs as nobody
    return dir;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
