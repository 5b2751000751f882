"use strict";
// A V8 startup snapshot of a warm tslab kernel (node --build-snapshot; runner/kernel/snapshot.ts builds it).
// A tslab kernel spends most of its start in TypeScript: loading the compiler (9 MB of JavaScript), then parsing
// and binding the type libraries (lib.es2022*.d.ts, @types/node, the SDK's declarations) for its first program.
// None of that depends on the notebook, so it is done once here and the heap is saved: a kernel started from
// the snapshot has TypeScript and tslab's converter loaded, and every parsed, bound library file in memory.
// What does depend on the notebook (its folder, its cells) is done at run time, as before.
//
// Each kernel is its own process, deserialized from the file: nothing is shared between kernels at run time,
// so a student's kernel is as isolated as before. zeromq (a native addon, which a snapshot cannot hold) and
// the launcher's fixes (launcher.cjs, tslab-fixes.cjs) load after, as they always did.
//
// A snapshot's builder may require() only Node's built-in modules, so the few npm modules it holds are loaded
// by a small CommonJS loader below, then handed to Node's module cache at run time.
const fs = require("fs");
const path = require("path");
const v8 = require("v8");
const vm = require("vm");

const CHECKOUT = process.env.LABBOOK_SNAPSHOT_CHECKOUT;
const MANIFEST = process.env.LABBOOK_SNAPSHOT_MANIFEST;
if (!CHECKOUT || !MANIFEST) throw new Error("snapshot-entry.cjs is run by runner/kernel/snapshot.ts (node --build-snapshot)");
const LAUNCHER = path.join(CHECKOUT, "runner", "kernel", "launcher.cjs");
const TSLAB_DIST = path.join(CHECKOUT, "node_modules", "tslab", "dist");
const BUILTIN = new Set(["assert", "buffer", "child_process", "crypto", "events", "fs", "inspector", "module", "net", "os", "path", "perf_hooks", "readline", "stream", "string_decoder", "timers", "tty", "url", "util", "v8", "vm", "worker_threads", "zlib"]);

/** How a module's source is changed before it runs: tslab's source fixes, once they are loaded. */
let fixSource = (_file, source) => source;

/** CommonJS modules loaded here: filename -> { filename, exports, loaded } (Module-like). */
const loaded = new Map();

function resolveFile(candidate) {
  for (const file of [candidate, `${candidate}.js`, `${candidate}.json`, path.join(candidate, "index.js")]) {
    try {
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not this one
    }
  }
  try {
    const main = JSON.parse(fs.readFileSync(path.join(candidate, "package.json"), "utf8")).main;
    if (main) return resolveFile(path.join(candidate, main));
  } catch {
    // no package.json
  }
  return undefined;
}

function resolveFrom(dir, specifier) {
  if (/^\.{0,2}\//.test(specifier)) return resolveFile(path.resolve(dir, specifier));
  for (let at = dir; ; at = path.dirname(at)) {
    if (path.basename(at) !== "node_modules") {
      const found = resolveFile(path.join(at, "node_modules", specifier));
      if (found) return found;
    }
    if (path.dirname(at) === at) return undefined;
  }
}

function load(file) {
  const known = loaded.get(file);
  if (known) return known.exports;
  const record = { filename: file, exports: {}, loaded: false };
  loaded.set(file, record);
  if (file.endsWith(".json")) {
    record.exports = JSON.parse(fs.readFileSync(file, "utf8"));
  } else {
    const requireHere = (specifier) => {
      const bare = specifier.replace(/^node:/, "");
      if (BUILTIN.has(bare)) return require(bare);
      const target = resolveFrom(path.dirname(file), specifier);
      if (!target) throw Object.assign(new Error(`Cannot find module '${specifier}' from ${file}`), { code: "MODULE_NOT_FOUND" });
      return specifier === "@tslab/typescript-for-tslab" ? typescriptFor(load(target)) : load(target);
    };
    const source = fixSource(file, fs.readFileSync(file, "utf8"));
    const body = vm.compileFunction(source, ["exports", "require", "module", "__filename", "__dirname"], { filename: file });
    body.call(record.exports, record.exports, requireHere, record, file, path.dirname(file));
  }
  record.loaded = true;
  return record.exports;
}

// tslab's source fixes (launcher.cjs applies them through Node's module hooks, which a snapshot builder lacks).
fixSource = load(path.join(__dirname, "tslab-source-fixes.cjs")).fixTslabSource;

// The parsed, bound library files, by name, with the size and time they had: used only while unchanged.
const libraries = new Map();
let lastWatch;

function cachedLibrary(fileName) {
  const known = libraries.get(fileName);
  if (!known) return undefined;
  try {
    const stat = fs.statSync(fileName);
    return stat.mtimeMs === known.mtimeMs && stat.size === known.size ? known.sourceFile : undefined;
  } catch {
    return undefined;
  }
}

/**
 * TypeScript as tslab's converter sees it: the same module, but each watch program it creates asks the cache
 * first for a source file (TypeScript's exports are getters, so a wrapper object carries the one change).
 */
let wrapped;
function typescriptFor(ts) {
  if (wrapped) return wrapped;
  wrapped = {};
  for (const key of Object.keys(ts)) if (key !== "createWatchProgram") Object.defineProperty(wrapped, key, { get: () => ts[key], enumerable: true });
  wrapped.createWatchProgram = (host) => {
    const createProgram = host.createProgram;
    host.createProgram = (rootNames, options, compilerHost, ...rest) => {
      if (compilerHost && !compilerHost.labbookLibraries) {
        // A new program asks for files by name, and a program reusing its predecessor's structure by path.
        const byName = compilerHost.getSourceFile;
        compilerHost.getSourceFile = (fileName, ...args) => cachedLibrary(fileName) ?? byName.call(compilerHost, fileName, ...args);
        const byPath = compilerHost.getSourceFileByPath;
        if (byPath) compilerHost.getSourceFileByPath = (fileName, ...args) => cachedLibrary(fileName) ?? byPath.call(compilerHost, fileName, ...args);
        compilerHost.labbookLibraries = true;
      }
      return createProgram.call(host, rootNames, options, compilerHost, ...rest);
    };
    lastWatch = ts.createWatchProgram(host);
    return lastWatch;
  };
  return wrapped;
}

// Build time: load tslab's converter (and TypeScript with it), and let it make the first program of a kernel
// whose cells import the SDK, from a folder of the checkout where "labbook" resolves. Its library files stay.
const converterFile = path.join(TSLAB_DIST, "converter.js");
const ts = load(resolveFrom(TSLAB_DIST, "@tslab/typescript-for-tslab"));
const { createConverter } = load(converterFile);
const buildCwd = process.cwd();
process.chdir(path.join(CHECKOUT, "labs"));
const converter = createConverter({ isJS: false, isBrowser: false });
converter.convert("", 'import { cluster } from "labbook";\nconst warm: number = 1;');
for (const sourceFile of lastWatch.getProgram().getProgram().getSourceFiles()) {
  // Libraries only: the converter's own virtual files are the cells'.
  if (path.basename(sourceFile.fileName).startsWith("__")) continue;
  const stat = fs.statSync(sourceFile.fileName);
  libraries.set(sourceFile.fileName, { sourceFile, mtimeMs: stat.mtimeMs, size: stat.size });
}
converter.close();
process.chdir(buildCwd);

// What the snapshot was made from: the runner starts kernels from it only while all of it is unchanged.
const identity = (file) => {
  const stat = fs.statSync(file);
  return [stat.mtimeMs, stat.size];
};
const files = [...loaded.keys(), __filename, LAUNCHER];
fs.writeFileSync(MANIFEST, `${JSON.stringify({ node: process.version, execPath: process.execPath, files: Object.fromEntries(files.map((f) => [f, identity(f)])), libraries: libraries.size }, null, 1)}\n`);

v8.startupSnapshot.setDeserializeMainFunction(() => {
  const { Module, createRequire } = require("module");
  // The modules loaded above, as if Node had loaded them: tslab's require("./converter") finds them.
  for (const record of loaded.values()) {
    const module = new Module(record.filename, null);
    module.filename = record.filename;
    module.exports = record.exports;
    module.paths = Module._nodeModulePaths(path.dirname(record.filename));
    module.loaded = true;
    Module._cache[record.filename] = module;
  }
  // TypeScript memoized the build's working directory; the kernel's is the notebook's folder.
  ts.sys.getCurrentDirectory = () => process.cwd();
  // The launcher named on the command line (runner/ or its copy in dist/), as a kernel without the snapshot runs.
  const launcher = process.argv[1] ? path.resolve(process.argv[1]) : LAUNCHER;
  createRequire(launcher)(launcher);
});
