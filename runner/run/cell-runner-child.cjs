#!/usr/bin/env node
// Runs notebook cells (TypeScript) in a plain Node process, for the hidden checks when grading: the
// instructor's grader-setup and hidden-check cells, never a student's. It does what the cells need of
// a kernel (top-level await, names shared across cells, stdout/stderr, display_data for checks) and
// nothing else. TypeScript only strips the types: no type-check, so a start costs about a tenth of a
// tslab kernel's (which parses @types/node for each one), and grading starts one per submission.
// Protocol (process IPC): {id, code} in; {id, kind: "stream"|"display_data"|"error", content} and
// {id, kind: "reply", status: "ok"|"error"} out.
"use strict";
const { createRequire } = require("node:module");
const path = require("node:path");

try {
  require("node:module").enableCompileCache?.(path.join(__dirname, "..", "..", ".labbook", "compile-cache"));
} catch {
  // an unwritable checkout only costs speed
}

const ts = require("typescript");

// A lab's own helpers are TypeScript beside its notebook (`import { cni } from "./cni.js"`), which tslab
// compiles when a cell imports them. Here they load the same way: "./x.js" is "./x.ts" when only that
// exists, compiled to CommonJS with the types stripped (tsc checks them; this process only runs them).
require("node:module").registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (!/^\.\.?\//.test(specifier) || !/\.js$/.test(specifier)) throw error;
      return nextResolve(specifier.replace(/\.js$/, ".ts"), context);
    }
  },
  load(url, context, nextLoad) {
    if (!url.startsWith("file:") || !url.endsWith(".ts")) return nextLoad(url, context);
    const file = require("node:url").fileURLToPath(url);
    const source = ts.transpileModule(require("node:fs").readFileSync(file, "utf8"), { fileName: file, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
    return { format: "commonjs", source, shortCircuit: true };
  },
});

// Module resolution from the notebook's folder, as tslab's: `import ... from "labbook"` finds the SDK.
const cellRequire = createRequire(path.join(process.cwd(), "__cell__.js"));
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;

/** Names the cells declared at top level live here, so that later cells see them. */
const scope = Object.create(null);
let current = null; // the running cell's id: where output goes

const send = (message) => process.send?.(message);
const forward = (kind, content) => current !== null && send({ id: current, kind, content });

for (const name of ["stdout", "stderr"]) {
  const stream = process[name];
  stream.write = (chunk, encoding, callback) => {
    forward("stream", { name, text: typeof chunk === "string" ? chunk : Buffer.from(chunk).toString(typeof encoding === "string" ? encoding : "utf8") });
    if (typeof encoding === "function") encoding();
    else if (typeof callback === "function") callback();
    return true;
  };
}
globalThis[Symbol.for("labbook.display")] = (content) => forward("display_data", { data: content.data, metadata: content.metadata ?? {} });

/** Top-level names a cell declares (after transpiling): they become the shared scope's. */
function declaredNames(source) {
  const names = [];
  const collect = (name) => {
    if (ts.isIdentifier(name)) names.push(name.text);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) collect(element.name);
  };
  for (const statement of source.statements) {
    if (ts.isVariableStatement(statement)) for (const d of statement.declarationList.declarations) collect(d.name);
    else if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name) names.push(statement.name.text);
  }
  return names;
}

/**
 * `import { a, b as c } from "m"` as `const { a, b: c } = require("m");`, and so on: an import binds
 * names for the later cells too, as in a notebook, which a transpiled require() local to one cell would not.
 */
function importsAsDeclarations(code) {
  const source = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.ES2022, true);
  let out = "";
  let at = 0;
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement)) continue;
    const clause = statement.importClause;
    const from = `require(${statement.moduleSpecifier.getText(source)})`;
    const lines = [];
    if (clause && !clause.isTypeOnly) {
      if (clause.name) lines.push(`const ${clause.name.text} = ((m) => (m && m.__esModule ? m.default : m))(${from});`);
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) lines.push(`const ${bindings.name.text} = ${from};`);
      if (bindings && ts.isNamedImports(bindings)) {
        const names = bindings.elements.filter((e) => !e.isTypeOnly).map((e) => (e.propertyName ? `${e.propertyName.text}: ${e.name.text}` : e.name.text));
        if (names.length) lines.push(`const { ${names.join(", ")} } = ${from};`);
      }
    } else if (!clause) {
      lines.push(`${from};`);
    }
    out += code.slice(at, statement.getStart(source)) + lines.join(" ");
    at = statement.getEnd();
  }
  return out + code.slice(at);
}

/**
 * The cell as the body of an async function run inside `with (scope)`: top-level const and let become
 * var, whose initialisers then assign to the scope's properties, which the next cell reads the same way.
 */
function compile(code) {
  const js = ts
    .transpileModule(importsAsDeclarations(code), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }, reportDiagnostics: false })
    .outputText.replace(/^"use strict";\s*/, "");
  const source = ts.createSourceFile("cell.js", js, ts.ScriptTarget.ES2022, true);
  for (const name of declaredNames(source)) if (!(name in scope)) scope[name] = undefined;
  let body = "";
  let at = 0;
  for (const statement of source.statements) {
    if (ts.isVariableStatement(statement)) {
      const list = statement.declarationList;
      const keyword = list.getFirstToken(source);
      body += js.slice(at, keyword.getStart(source)) + "var";
      at = keyword.getEnd();
    } else if (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) {
      // `function f` would be hoisted into the wrapper, out of the scope: assign it instead.
      body += js.slice(at, statement.getStart(source)) + `${statement.name.text} = ${js.slice(statement.getStart(source), statement.getEnd())};`;
      at = statement.getEnd();
    }
  }
  body += js.slice(at);
  return new AsyncFunction("__scope", "require", "exports", "module", `with (__scope) {\n${body}\n}`);
}

function errorContent(error) {
  const ename = error instanceof Error ? error.name : "Error";
  const evalue = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error && error.stack ? error.stack.split("\n") : [`${ename}: ${evalue}`];
  return { ename, evalue, traceback: stack };
}

process.on("message", async ({ id, code }) => {
  current = id;
  try {
    const module = { exports: {} };
    await compile(code)(scope, cellRequire, module.exports, module);
    send({ id, kind: "reply", status: "ok" });
  } catch (error) {
    forward("error", errorContent(error));
    send({ id, kind: "reply", status: "error" });
  } finally {
    current = null;
  }
});
// A promise a cell left behind that fails later must not end the process: the cell has had its say.
process.on("unhandledRejection", () => {});
// The runner going away (kill -9 included) ends this process: IPC closes.
process.on("disconnect", () => process.exit(0));
send({ kind: "ready" });
