// npm run build: the SDK as JavaScript and declarations in dist/, for notebooks.
// tslab type-checks imports with its own TypeScript 5.0, which cannot read a declaration
// that imports "./x.ts": those specifiers are rewritten to "./x.js" after tsc.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { linkSdkPackage } from "../jupyter/sdk-link.ts";
import { ensureKernelSnapshot } from "../kernel/snapshot.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const dist = join(root, "dist");
// Built beside dist/ and swapped in at the end: a kernel importing the SDK while a build
// runs (a lab open in Jupyter, a concurrent `labbook run`) never sees a half-written dist/.
const next = join(root, `dist.next-${process.pid}`);

function filesUnder(dir: string, keep: (path: string) => boolean): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path, keep) : keep(path) ? [path] : [];
  });
}

rmSync(next, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json"), "--outDir", next], { stdio: "inherit" });
for (const file of filesUnder(next, (p) => p.endsWith(".d.ts"))) {
  const text = readFileSync(file, "utf8");
  const rewritten = text.replace(/(from\s+["']\.{1,2}\/[^"']*?)\.ts(["'])/g, "$1.js$2").replace(/(import\(["']\.{1,2}\/[^"']*?)\.ts(["']\))/g, "$1.js$2");
  if (rewritten !== text) writeFileSync(file, rewritten);
}

// Files the code finds next to itself at run time (node-init.sh, the internet reply, the udp relay, schemas, the kernel launcher).
const runner = join(root, "runner");
for (const asset of filesUnder(runner, (p) => /\.(sh|json|cjs|py|pl)$/.test(p))) {
  const target = join(next, relative(runner, asset));
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(asset, target);
}

const old = `${dist}.old-${process.pid}`;
if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });

// Notebooks import "labbook": tslab resolves it like Node 10, through node_modules.
linkSdkPackage(root);

// The warm kernel (runner/kernel/snapshot.ts): made again with the SDK, whose declarations it holds parsed.
const snapshot = ensureKernelSnapshot({ force: true });
if (snapshot.problem) process.stderr.write(`labbook build: ${snapshot.problem}; kernels start without it\n`);

