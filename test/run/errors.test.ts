import assert from "node:assert/strict";
import { errorFromStderr } from "../../runner/run/cell-error.ts";

describe("errors from tslab's stderr", () => {
  it("finds the exception line of a runtime error", () => {
    const error = errorFromStderr("evalmachine.<anonymous>:2\nthrow new Error('boom');\n^\n\nError: boom\n    at evalmachine.<anonymous>:2:7\n");
    assert.equal(error.ename, "Error");
    assert.equal(error.evalue, "boom");
    assert.ok(error.traceback.includes("    at evalmachine.<anonymous>:2:7"));
  });

  it("keeps the error class", () => {
    assert.equal(errorFromStderr("TypeError: x is not a function\n").ename, "TypeError");
  });

  it("collects TypeScript diagnostics", () => {
    const error = errorFromStderr("1:7 - Type 'number' is not assignable to type 'string'.\n2:1 - Cannot find name 'y'.\n");
    assert.equal(error.ename, "TypeScriptError");
    assert.equal(error.evalue, "Type 'number' is not assignable to type 'string'.; Cannot find name 'y'.");
  });

  it("still says something when stderr is empty", () => {
    assert.equal(errorFromStderr("").evalue, "the cell failed without a message");
  });
});
