// tslab reports a failing cell only as text on stderr, with no `error` message (tslab 1.0.22).
// This turns that text into an nbformat/Jupyter error: { ename, evalue, traceback }.
// CommonJS, because the kernel launcher (plain Node, started by Jupyter) uses it too.
"use strict";

const EXCEPTION_LINE = /^([A-Za-z_$][\w$.]*(?:Error|Exception)|Error)(?:: (.*))?$/;
const COMPILE_LINE = /^\d+:\d+ - (.*)$/;

function errorFromStderr(stderr) {
  const lines = stderr.replace(/\r/g, "").split("\n").filter((l, i, all) => l !== "" || i < all.length - 1);
  const compile = lines.map((l) => COMPILE_LINE.exec(l)).filter((m) => m !== null);
  if (compile.length > 0) {
    return { output_type: "error", ename: "TypeScriptError", evalue: compile.map((m) => m[1]).join("; "), traceback: lines };
  }
  const exception = lines.map((l) => EXCEPTION_LINE.exec(l.trim())).find((m) => m !== null);
  if (exception) return { output_type: "error", ename: exception[1], evalue: exception[2] || "", traceback: lines };
  const last = [...lines].reverse().find((l) => l.trim() !== "") || "the cell failed without a message";
  return { output_type: "error", ename: "Error", evalue: last.trim(), traceback: lines.length ? lines : [last] };
}

module.exports = { errorFromStderr };
