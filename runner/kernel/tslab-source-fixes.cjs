"use strict";
// Fixes to tslab's converter that live inside a function, where patching objects cannot reach: its source
// is rewritten as it loads (by launcher.cjs through Node's module hooks, and by snapshot-entry.cjs's loader).
//
// 5. A shorthand property naming an earlier cell's variable (`{ port }`) failed with "port is not defined".
//    tslab keeps earlier cells' variables as `exports.port` and rewrites each later use of the name, but it
//    asks the checker for the symbol at a shorthand property's name, which is the property, not the variable.
//    A shorthand property whose value is an earlier cell's variable becomes `port: exports.port`.
//
// 6. Each cell cost TypeScript's incremental builder: for every new program (one per cell) it records what
//    each of the ~190 library files references, and makes a type checker to find out, although the kernel
//    never builds incrementally. About a third of a cell's CPU after the first few (11 of 33 ms), and 200 ms at
//    the second cell. The converter gets TypeScript's plain builder instead (createAbstractBuilder: the
//    program, checked and emitted file by file as asked), with the one thing tslab asks of the incremental
//    one, a file's dependencies, computed when asked, for that file only (dependenciesOf below).
//
// 7. A kernel whose folder has no node_modules/@types above it (a grader's staged copy of a lab in /tmp, a
//    course repository of the instructor's own) got tslab's own copy of @types/node (18.19), and with it the
//    checkout's (20.19) that the SDK's declarations reference: two versions of Node's types in one program,
//    and neither of them the one the warm snapshot holds parsed, so every such kernel parsed @types/node again
//    (about 1 s of CPU per graded submission). Such a kernel now gets the checkout's node_modules/@types, as a
//    kernel in labs/ always did.
const CONVERTER = /[\\/]tslab[\\/]dist[\\/]converter\.js$/;
const ANCHOR = "        function wrapPrevIdentifier(node) {\n            var _a, _b;\n";
const SHORTHAND = `${ANCHOR}            if (ts.isShorthandPropertyAssignment(node) && !node.objectAssignmentInitializer) {
                const value = checker.getShorthandAssignmentValueSymbol(node);
                if (value && (value.declarations || []).some((decl) => decl.getSourceFile() === declsFile)) {
                    return ts.factory.createPropertyAssignment(node.name.text, ts.factory.createPropertyAccessExpression(ts.factory.createIdentifier("exports"), node.name.text));
                }
            }
`;

const BUILDER_ANCHOR = "    }, sys, null, function (d) {\n";
const BUILDER = `    }, sys, require(${JSON.stringify(__filename)}).plainBuilder(ts), function (d) {\n`;

/**
 * What a file depends on, as TypeScript's incremental builder answers it (BuilderState.getAllDependencies):
 * every file for a script or a global augmentation (it shares the global scope with all of them), else the
 * files its imports, references and type references reach, transitively.
 */
function dependenciesOf(ts, program, sourceFile) {
  const all = () => program.getSourceFiles().map((file) => file.fileName);
  const global = (file) => (file.moduleAugmentations || []).some((name) => name.parent && name.parent.flags & ts.NodeFlags.GlobalAugmentation);
  if (program.getCompilerOptions().outFile || global(sourceFile) || !(ts.isExternalModule(sourceFile) || sourceFile.commonJsModuleIndicator)) return all();
  const checker = program.getTypeChecker();
  const seen = new Map();
  const queue = [sourceFile];
  const add = (file) => file && !seen.has(file.resolvedPath) && queue.push(file);
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file.resolvedPath)) continue;
    seen.set(file.resolvedPath, file.fileName);
    for (const name of file.imports || []) {
      const symbol = checker.getSymbolAtLocation(name);
      for (const declaration of (symbol && symbol.declarations) || []) add(declaration.getSourceFile());
    }
    for (const reference of file.referencedFiles || []) add(program.getSourceFile(ts.getNormalizedAbsolutePath(reference.fileName, ts.getDirectoryPath(file.fileName))));
    if (file.resolvedTypeReferenceDirectiveNames) {
      file.resolvedTypeReferenceDirectiveNames.forEach(({ resolvedTypeReferenceDirective }) => resolvedTypeReferenceDirective && add(program.getSourceFile(resolvedTypeReferenceDirective.resolvedFileName)));
    }
  }
  return [...seen.values()];
}

/** The converter's createProgram for its watch: TypeScript's plain builder, and dependencies when asked. */
function plainBuilder(ts) {
  return (...args) => {
    const builder = ts.createAbstractBuilder(...args);
    builder.getAllDependencies = (sourceFile) => dependenciesOf(ts, builder.getProgram(), sourceFile);
    // The converter reads a cell's top-level names from the binder's work (srcFile.locals) before it asks for
    // anything else; the incremental builder had bound every file by making a checker. Only the files no
    // earlier program bound are bound here (the libraries are, once).
    const program = builder.getProgram();
    for (const file of program.getSourceFiles()) if (!file.locals) ts.bindSourceFile(file, program.getCompilerOptions());
    return builder;
  };
}

const TYPE_ROOTS_ANCHOR = '        typeRoots.push((0, tspath_1.normalizeJoin)(__dirname, "..", "node_modules", "@types"));\n';
const TYPE_ROOTS = `        typeRoots.push(require(${JSON.stringify(__filename)}).fallbackTypeRoot((0, tspath_1.normalizeJoin)(__dirname, "..", "node_modules", "@types")));\n`;

/** The checkout's node_modules/@types (this file is in runner/kernel/ or dist/kernel/), else tslab's own. */
function fallbackTypeRoot(tslabTypes) {
  const path = require("node:path");
  const checkoutTypes = path.join(__dirname, "..", "..", "node_modules", "@types");
  return require("node:fs").existsSync(path.join(checkoutTypes, "node", "package.json")) ? checkoutTypes : tslabTypes;
}

/** tslab's converter.js with the fixes above; any other file as it is. Throws if tslab's code moved. */
function fixTslabSource(filename, source) {
  if (!CONVERTER.test(filename)) return source;
  if (![ANCHOR, BUILDER_ANCHOR, TYPE_ROOTS_ANCHOR].every((anchor) => source.includes(anchor))) throw new Error(`labbook: ${filename} is not the tslab 1.0.22 converter its fixes were written for`);
  return source.replace(ANCHOR, SHORTHAND).replace(BUILDER_ANCHOR, BUILDER).replace(TYPE_ROOTS_ANCHOR, TYPE_ROOTS);
}

module.exports = { fixTslabSource, CONVERTER, plainBuilder, dependenciesOf, fallbackTypeRoot };
