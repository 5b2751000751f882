import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv, type Options } from "ajv";
import { compiledValidator } from "../../runner/schema/compiled-validator.ts";

const SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["name", "size"],
  properties: { name: { type: "string", pattern: "^[a-z]+$" }, size: { type: "integer", minimum: 1 } },
};
const BAD = { name: "Node1", size: 0, extra: true };

/** compiledValidator over SCHEMA in `dir`, counting the compiles it asked for. */
function validatorIn(dir: string, compiles: { count: number }, schema: object = SCHEMA) {
  return compiledValidator("test", schema, { allErrors: true }, (options: Options) => {
    compiles.count++;
    return new Ajv(options);
  }, dir);
}

describe("JSON-schema validators compiled once per checkout", () => {
  it("compiles on first use, then loads the written module without compiling; both judge alike", () => {
    const dir = mkdtempSync(join(tmpdir(), "labbook-validators-"));
    const compiles = { count: 0 };
    const first = validatorIn(dir, compiles);
    assert.equal(compiles.count, 1);
    assert.equal(readdirSync(dir).filter((f) => f.endsWith(".cjs")).length, 1);
    const second = validatorIn(dir, compiles);
    assert.equal(compiles.count, 1, "the second process-wide use loads the module instead of compiling");
    assert.notEqual(second, first);
    for (const validate of [first, second]) {
      assert.equal(validate({ name: "node", size: 2 }), true);
      assert.equal(validate(BAD), false);
      assert.deepEqual(validate.errors?.map((e) => `${e.instancePath} ${e.keyword}`).sort(), ["/name pattern", "/size minimum", " additionalProperties"].sort());
    }
  });

  it("another schema is another file, which replaces the older one's and any half-written leftover", () => {
    const dir = mkdtempSync(join(tmpdir(), "labbook-validators-"));
    const compiles = { count: 0 };
    validatorIn(dir, compiles);
    const [older] = readdirSync(dir);
    writeFileSync(join(dir, "test-0123456789abcdef.cjs.4242.tmp"), "half");
    writeFileSync(join(dir, "other-0123456789abcdef.cjs"), "another validator's");
    // A validator whose name starts with this one's ("test"), not this one's older file.
    writeFileSync(join(dir, "test-v2-0123456789abcdef.cjs"), "another validator's");
    const loose = validatorIn(dir, compiles, { ...SCHEMA, additionalProperties: true });
    assert.equal(compiles.count, 2);
    assert.equal(loose({ name: "node", size: 1, extra: true }), true);
    const left = readdirSync(dir).sort();
    assert.equal(left.length, 3, left.join(", "));
    assert.ok(!left.includes(older!) && left.includes("other-0123456789abcdef.cjs") && left.includes("test-v2-0123456789abcdef.cjs"), left.join(", "));
  });

  it("a module that does not load is compiled and written again", () => {
    const dir = mkdtempSync(join(tmpdir(), "labbook-validators-"));
    const compiles = { count: 0 };
    validatorIn(dir, compiles);
    const [file] = readdirSync(dir);
    writeFileSync(join(dir, file!), "this is not JavaScript (");
    const validate = validatorIn(dir, compiles);
    assert.equal(compiles.count, 2);
    assert.equal(validate(BAD), false);
    assert.equal(validatorIn(dir, compiles)(BAD), false);
    assert.equal(compiles.count, 2, "the rewritten module loads");
  });

  it("a directory it cannot make only costs the compile", () => {
    // Below a file: not even root can make it (a read-only mode would not stop root).
    const file = join(mkdtempSync(join(tmpdir(), "labbook-validators-")), "a-file");
    writeFileSync(file, "");
    const dir = join(file, "validators");
    const compiles = { count: 0 };
    assert.equal(validatorIn(dir, compiles)(BAD), false);
    assert.equal(validatorIn(dir, compiles)(BAD), false);
    assert.equal(compiles.count, 2);
  });
});
