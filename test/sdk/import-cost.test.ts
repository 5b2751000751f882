// Every kernel imports the SDK before its first cell can run, so what that import loads is part of each kernel's
// start. The YAML parser and the schema validator (135 modules, about a
// third of the import's time) are needed only where a topology is read or a node's files are written: they
// must stay out of the import.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const LABS = fileURLToPath(new URL("../../labs/", import.meta.url));

/** The URL of every module that `require("labbook")` loads, from a notebook's folder, as a kernel does. */
function modulesOfTheSdkImport(): string[] {
  const script = `
    const urls = new Set();
    require("node:module").registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); urls.add(r.url); return r; } });
    require("labbook");
    process.stdout.write(JSON.stringify([...urls]));`;
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: LABS, encoding: "utf8" })) as string[];
}

describe("the SDK's import, as each kernel makes it", () => {
  it("loads the SDK and its SSH client, but neither the YAML parser nor the schema validator", () => {
    const urls = modulesOfTheSdkImport();
    // The hook sees the packages that are loaded: otherwise the assertions below would pass on nothing.
    assert.ok(urls.some((url) => url.endsWith("/dist/sdk/index.js")), "the SDK itself");
    assert.ok(urls.some((url) => url.includes("/node_modules/ssh2/")), "ssh2, which every cell's command uses");
    const heavy = urls.filter((url) => /\/node_modules\/(yaml|ajv)\//.test(url));
    assert.deepEqual(heavy.slice(0, 3), [], `${heavy.length} modules of yaml or ajv, first through: ${heavy[0]}`);
  });
});
