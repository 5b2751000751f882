// Notebook parameters, papermill's way: what a `parameters` cell declares, how -p values are typed, and the
// injected cell; errors name the notebook and the parameter.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { takeParameterArgs } from "../../runner/cli/parameter-args.ts";
import { UsageError } from "../../runner/errors.ts";
import { assertParametersKnown, declaredParameters, injectParameters, parametersHelp, parseParameterValue } from "../../runner/notebook/parameters.ts";
import { sourceText, type Notebook } from "../../runner/notebook/types.ts";

function notebook(parameters: string | undefined, more: string[] = ["console.log(seconds)"]): Notebook {
  const code = (id: string, source: string, tags?: string[]) => ({ cell_type: "code" as const, id, metadata: tags ? { tags } : {}, source, outputs: [], execution_count: null });
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: "markdown", id: "title", metadata: {}, source: "# Lab" },
      ...(parameters === undefined ? [] : [code("params", parameters, ["parameters"])]),
      ...more.map((source, i) => code(`c${i}`, source)),
    ],
  };
}

const LAB = [
  "// Parameters",
  "const seconds = 2; // how long to measure",
  'let mode: string = "vxlan";',
  "const verbose = false;",
  "const nodes: string[] = [\"node1\", \"node2\"];",
  "const limits: Record<string, number> = {};",
  "const when = Date.now();",
].join("\n");

describe("notebook parameters", () => {
  it("reads each declaration of the `parameters` cell: keyword, type (written or inferred), default and help", () => {
    const declared = declaredParameters(notebook(LAB), "lab.ipynb");
    assert.deepEqual(declared.map((p) => [p.name, p.keyword, p.kind, p.defaultText, p.help]), [
      ["seconds", "const", "number", "2", "how long to measure"],
      ["mode", "let", "string", '"vxlan"', ""],
      ["verbose", "const", "boolean", "false", ""],
      ["nodes", "const", "list", '["node1", "node2"]', ""],
      ["limits", "const", "map", "{}", ""],
      ["when", "const", "unknown", "Date.now()", ""],
    ]);
    assert.deepEqual(declaredParameters(notebook(undefined), "lab.ipynb"), []);
  });

  it("types -p values as papermill does", () => {
    assert.equal(parseParameterValue("5"), 5);
    assert.equal(parseParameterValue("-2.5e3"), -2500);
    assert.equal(parseParameterValue("True"), true);
    assert.equal(parseParameterValue("false"), false);
    assert.equal(parseParameterValue("None"), null);
    assert.equal(parseParameterValue("0x10"), "0x10");
    assert.equal(parseParameterValue(""), "");
    assert.equal(parseParameterValue("host-gw"), "host-gw");
  });

  it("injects a cell right after the `parameters` cell, redeclaring with the same keyword, and records the values", () => {
    const source = notebook(LAB);
    const run = injectParameters(source, "lab.ipynb", { seconds: 10, mode: "host-gw", nodes: ["node3"] });
    assert.deepEqual(run.cells.map((c) => c.id), ["title", "params", "injected-parameters", "c0"]);
    const injected = run.cells[2]!;
    assert.deepEqual(injected.metadata.tags, ["injected-parameters"]);
    assert.equal(sourceText(injected.source), '// Parameters (injected by labbook run -p)\nconst seconds = 10;\nlet mode = "host-gw";\nconst nodes = ["node3"];');
    assert.deepEqual((run.metadata.labbook as { parameters: unknown }).parameters, { seconds: 10, mode: "host-gw", nodes: ["node3"] });
    assert.equal(source.cells.length, 3, "the notebook given is left as it was");
    // Run again on the executed notebook: the earlier injected cell is replaced, not stacked.
    const again = injectParameters(run, "lab.ipynb", { seconds: 3 });
    assert.deepEqual(again.cells.map((c) => c.id), ["title", "params", "injected-parameters", "c0"]);
    assert.match(sourceText(again.cells[2]!.source), /const seconds = 3;$/);
    assert.equal(injectParameters(source, "lab.ipynb", {}), source, "no values, nothing injected");
  });

  it("refuses a value of another type than the declared one, naming the notebook and parameter (null fits any)", () => {
    const source = notebook(LAB);
    assert.throws(() => injectParameters(source, "labs/06.ipynb", { seconds: "two" }), (e: Error) => e instanceof UsageError && /labs\/06\.ipynb: parameter seconds is a number \(default 2\), got "two" \(a string\)/.test(e.message));
    assert.throws(() => injectParameters(source, "lab.ipynb", { mode: 5 }), /parameter mode is a string .*-r mode VALUE passes VALUE as a string/);
    assert.throws(() => injectParameters(source, "lab.ipynb", { nodes: { a: 1 } }), /parameter nodes is a list/);
    assert.doesNotThrow(() => injectParameters(source, "lab.ipynb", { when: "anything", seconds: null }));
  });

  it("says which names no notebook declares, and what each declares", () => {
    const notebooks = [{ path: "a.ipynb", notebook: notebook(LAB) }, { path: "b.ipynb", notebook: notebook(undefined) }];
    assert.doesNotThrow(() => assertParametersKnown(notebooks, { seconds: 1 }));
    assert.throws(() => assertParametersKnown(notebooks, { second: 1 }), (e: Error) => e instanceof UsageError && e.message === 'unknown parameter second: a.ipynb: it declares: seconds, mode, verbose, nodes, limits, when; b.ipynb: it declares none (no code cell tagged "parameters")');
  });

  it("gives a lab with variants a `variant` parameter, v1..vN, that sets the seed its choices follow", () => {
    const lab = { ...notebook(LAB), metadata: { labbook: { variants: 4 } } };
    const variant = declaredParameters(lab, "lab.ipynb").find((p) => p.name === "variant");
    assert.equal(variant?.variants, 4);
    assert.deepEqual(declaredParameters(notebook(LAB), "lab.ipynb").map((p) => p.name).includes("variant"), false, "only labs that offer variants");
    const run = injectParameters(lab, "lab.ipynb", { variant: "v3", seconds: 1 });
    assert.equal(sourceText(run.cells[2]!.source), '// Parameters (injected by labbook run -p)\nprocess.env.LABBOOK_SEED = "v3"; // the lab\'s variant: the seed its choices follow\nconst seconds = 1;');
    assert.deepEqual((run.metadata.labbook as { parameters: unknown }).parameters, { variant: "v3", seconds: 1 });
    for (const bad of ["v5", "v0", "3", "v03"]) {
      assert.throws(() => injectParameters(lab, "labs/08.ipynb", { variant: bad }), (e: Error) => e instanceof UsageError && e.message.startsWith("labs/08.ipynb: parameter variant is one of the lab's 4 variants, v1..v4, got"));
    }
    // Without a `parameters` cell, the injected cell comes first, before any choice is made.
    const bare = { ...notebook(undefined), metadata: { labbook: { variants: 2 } } };
    assert.equal(injectParameters(bare, "lab.ipynb", { variant: "v2" }).cells[0]!.id, "injected-parameters");
    // Read as grading reads it: a count that is not one is the notebook's error, named, not a lab without variants.
    const malformed = { ...notebook(LAB), metadata: { labbook: { variants: "four" } } };
    assert.throws(() => injectParameters(malformed, "labs/08.ipynb", { variant: "v1" }), /labs\/08\.ipynb: metadata\.labbook\.variants must be how many variants the lab offers/);
  });

  it("lists the parameters as papermill's --help-notebook does", () => {
    const help = parametersHelp(notebook('const seconds = 2; // how long\nconst pings = 20; // how many'), "lab.ipynb");
    assert.equal(help, "lab.ipynb: parameters (labbook run lab.ipynb -p NAME VALUE ...)\n  seconds  number   default 2   how long\n  pings    number   default 20  how many");
    assert.match(parametersHelp(notebook(undefined), "x.ipynb"), /x\.ipynb: no parameters/);
  });

  it("takes -p, -r, -y and -f out of argv, in order, later ones winning; bad ones are usage errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "labbook-params-"));
    writeFileSync(join(dir, "p.yaml"), "seconds: 7\nnodes: [node1, node3]\nlimits: { rtt: 2.5 }\n");
    const taken = takeParameterArgs("run", ["lab.ipynb", "-p", "seconds", "5", "--keep-going", "-f", join(dir, "p.yaml"), "-r", "mode", "123", "-y", "verbose: true", "--parameters", "ratio", "0.5"]);
    assert.deepEqual(taken.rest, ["lab.ipynb", "--keep-going"]);
    assert.deepEqual(taken.values, { seconds: 7, nodes: ["node1", "node3"], limits: { rtt: 2.5 }, mode: "123", verbose: true, ratio: 0.5 });
    assert.throws(() => takeParameterArgs("run", ["-p", "seconds"]), /labbook run: -p takes a name and a value/);
    assert.throws(() => takeParameterArgs("run", ["-p", "1x", "2"]), /a parameter name is a TypeScript identifier/);
    assert.throws(() => takeParameterArgs("run", ["-f", join(dir, "none.yaml")]), /none\.yaml: no such file/);
    assert.throws(() => takeParameterArgs("run", ["-y", "[1, 2]"]), /parameters must be a YAML map of name: value, got a list/);
    assert.throws(() => takeParameterArgs("run", ["-y", "a: [1"]), /-y text: not YAML/);
  });
});
