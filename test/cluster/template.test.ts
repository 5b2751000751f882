import assert from "node:assert/strict";
import { $ as zx } from "zx";
import { CommandResult } from "../../runner/cluster/result.ts";
import { buildCommand, type TemplateValue } from "../../runner/cluster/template.ts";

const cmd = (pieces: TemplateStringsArray, ...values: TemplateValue[]) => buildCommand(pieces, values);

/** What zx itself would run for the same template (its ProcessPromise exposes the command). */
function zxCommand(pieces: TemplateStringsArray, ...values: unknown[]): string {
  const withOptions = zx as unknown as (options: object) => (pieces: TemplateStringsArray, ...values: unknown[]) => { cmd: string };
  const promise = withOptions({ halt: true })(pieces, ...values);
  return promise.cmd;
}

describe("command templates (zx quoting)", () => {
  it("leaves plain words alone and quotes everything else as one word", () => {
    const cidr = "172.18.0.0/16";
    const gw = "192.168.0.12";
    assert.equal(cmd`ip route add ${cidr} via ${gw}`, "ip route add 172.18.0.0/16 via 192.168.0.12");
    assert.equal(cmd`echo ${"a b"}`, "echo $'a b'");
    assert.equal(cmd`echo ${"it's; rm -rf /"}`, "echo $'it\\'s; rm -rf /'");
    assert.equal(cmd`echo ${""}`, "echo $''");
    assert.equal(cmd`echo ${"$(id)"} ${"`id`"}`, "echo $'$(id)' $'`id`'");
  });

  it("matches zx's own command for the same template", () => {
    const values = ["a b", "it's", "x\ny", "ünï", "-n", "*"];
    for (const value of values) assert.equal(cmd`echo ${value}`, zxCommand`echo ${value}`, JSON.stringify(value));
    assert.equal(cmd`ls ${["a b", "c"]}`, zxCommand`ls ${["a b", "c"]}`);
  });

  it("turns arrays into several words and numbers into words", () => {
    assert.equal(cmd`ping ${["-c", 1]} ${"10.0.0.1"}`, "ping -c 1 10.0.0.1");
  });

  it("interpolates a command result as its stdout without the final newline", () => {
    const result = new CommandResult("node1", "hostname", "node1\n", "", 0, null, 1, false);
    assert.equal(cmd`ssh ${result} true`, "ssh node1 true");
  });

  it("refuses undefined rather than running a command with a hole in it", () => {
    assert.throws(() => cmd`ip route del ${undefined as unknown as string}`, /cannot interpolate undefined/);
  });
});
