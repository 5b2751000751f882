"use strict";
// Fixes to tslab's converter that live inside a function, where patching objects cannot reach: its source
// is rewritten as it loads (by launcher.cjs through Node's module hooks, and by snapshot-entry.cjs's loader).
//
// 5. A shorthand property naming an earlier cell's variable (`{ port }`) failed with "port is not defined".
//    tslab keeps earlier cells' variables as `exports.port` and rewrites each later use of the name, but it
//    asks the checker for the symbol at a shorthand property's name, which is the property, not the variable.
//    A shorthand property whose value is an earlier cell's variable becomes `port: exports.port`.
const CONVERTER = /[\\/]tslab[\\/]dist[\\/]converter\.js$/;
const ANCHOR = "        function wrapPrevIdentifier(node) {\n            var _a, _b;\n";
const SHORTHAND = `${ANCHOR}            if (ts.isShorthandPropertyAssignment(node) && !node.objectAssignmentInitializer) {
                const value = checker.getShorthandAssignmentValueSymbol(node);
                if (value && (value.declarations || []).some((decl) => decl.getSourceFile() === declsFile)) {
                    return ts.factory.createPropertyAssignment(node.name.text, ts.factory.createPropertyAccessExpression(ts.factory.createIdentifier("exports"), node.name.text));
                }
            }
`;

/** tslab's converter.js with the fix above; any other file as it is. Throws if tslab's code moved. */
function fixTslabSource(filename, source) {
  if (!CONVERTER.test(filename)) return source;
  if (!source.includes(ANCHOR)) throw new Error(`labbook: ${filename} is not the tslab 1.0.22 converter its fixes were written for`);
  return source.replace(ANCHOR, SHORTHAND);
}

module.exports = { fixTslabSource, CONVERTER };
