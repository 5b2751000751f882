import assert from "node:assert/strict";
import { parseCommandArgs, positiveInteger, splitAtDoubleDash } from "../../runner/cli/args.ts";
import { UsageError } from "../../runner/errors.ts";

describe("cli arguments", () => {
  it("splits a command line at the first --", () => {
    assert.deepEqual(splitAtDoubleDash(["node1", "--", "ls", "--", "-l"]), [["node1"], ["ls", "--", "-l"]]);
    assert.deepEqual(splitAtDoubleDash(["node1"]), [["node1"], undefined]);
  });

  it("accepts only positive whole numbers for counts", () => {
    assert.equal(positiveInteger("--nodes", "3"), 3);
    assert.equal(positiveInteger("--nodes", undefined), undefined);
    for (const bad of ["0", "-1", "2.5", "x", ""]) assert.throws(() => positiveInteger("--nodes", bad), UsageError);
  });

  it("turns unknown options into a usage error naming the command", () => {
    assert.throws(
      () => parseCommandArgs("up", ["--frob"], { name: { type: "string" } }),
      (error: unknown) => error instanceof UsageError && error.exitCode === 2 && /labbook up: Unknown option '--frob'/.test(error.message),
    );
  });
});
