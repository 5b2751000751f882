#!/usr/bin/env node
// Starts the tslab kernel with fixes for its bugs (tslab-fixes.cjs).
// Used by `labbook run` and by the kernelspec `labbook kernel install` registers for Jupyter.
// Plain CommonJS: it must start without tsx, as Jupyter runs it directly.
"use strict";
const path = require("node:path");

// Node's on-disk code cache for tslab's TypeScript (9 MB of JavaScript): measured 12% less CPU per
// kernel start, and grading starts two kernels per submission. The cache sits in the checkout's
// .labbook/ (git-ignored); launched from dist/ or runner/, that is two levels up.
try {
  require("node:module").enableCompileCache?.(path.join(__dirname, "..", "..", ".labbook", "compile-cache"));
} catch {
  // an unwritable checkout only costs speed
}

// The fixes that must rewrite tslab's source (tslab-source-fixes.cjs), as it loads. A kernel from the warm
// snapshot has the converter loaded, fixed, already.
const { fixTslabSource, CONVERTER } = require("./tslab-source-fixes.cjs");
if (typeof require("node:module").registerHooks !== "function") {
  process.stderr.write(`labbook's kernel needs Node.js 22.15 or later (module.registerHooks); this is ${process.version}. Run labbook with its own Node.js, .labbook/node/node_modules/node-linux-*/bin/node, which infra/setup.sh installs (labbook doctor says which one runs)\n`);
  process.exit(1);
}
require("node:module").registerHooks({
  load(url, context, nextLoad) {
    const result = nextLoad(url, context);
    if (!CONVERTER.test(url) || result.source == null) return result;
    return { ...result, source: fixTslabSource(require("node:url").fileURLToPath(url), String(result.source)) };
  },
});

require("./tslab-fixes.cjs");

// Started by labbook run: die with the runner, even after its kill -9, rather than linger.
if (process.env.LABBOOK_KERNEL_WATCH_PARENT === "1") {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
  process.stdin.unref(); // watching, not holding: a shutdown_request must still end the process
}

require("tslab/dist/main.js").main();
