import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import type { Ajv, ErrorObject, ValidateFunction } from "ajv";
import { isMap, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import { compiledValidator } from "../schema/compiled-validator.ts";
import { TopologyError } from "./errors.ts";
import { topologySchema } from "./schema.ts";
import type { Topology } from "./types.ts";
import { validateTopology, type RawTopology } from "./validate.ts";

export const DEFAULT_TOPOLOGY_PATH = fileURLToPath(new URL("../../infra/cluster.yaml", import.meta.url));

// Compiled on first use, and kept compiled for the next command (schema/compiled-validator.ts): compiling cost
// more than everything else a CLI command does.
let shapeValidator: ValidateFunction | undefined;
function validateShape(data: unknown): data is RawTopology {
  shapeValidator ??= compiledValidator("topology", topologySchema, { allErrors: true }, (options) => {
    const { Ajv: AjvClass } = createRequire(import.meta.url)("ajv") as { Ajv: new (options: object) => Ajv };
    return new AjvClass(options);
  });
  return shapeValidator(data);
}

export function loadTopology(path = DEFAULT_TOPOLOGY_PATH): Topology {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new TopologyError(path, [{ path: "", message: `cannot read topology ${path}: ${(error as Error).message}` }]);
  }
  return parseTopology(text, path);
}

export function parseTopology(text: string, source: string): Topology {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new TopologyError(
      source,
      doc.errors.map((e) => ({ path: "", message: e.message.split("\n")[0]!, line: lineCounter.linePos(e.pos[0]).line })),
    );
  }
  const data: unknown = doc.toJS();
  const lineOf = (path: string) => lineOfPath(doc, lineCounter, path);
  if (!validateShape(data)) {
    throw new TopologyError(source, (shapeValidator?.errors ?? []).map((e) => shapeProblem(e, lineOf)));
  }
  const { topology, problems } = validateTopology(data, source);
  if (problems.length > 0) {
    throw new TopologyError(source, problems.map((p) => ({ ...p, line: lineOf(p.path) })));
  }
  return topology;
}

function shapeProblem(error: ErrorObject, lineOf: (path: string) => number | undefined) {
  let path = error.instancePath.replace(/^\//, "").replaceAll("/", ".");
  let message = error.message ?? "is invalid";
  if (error.keyword === "additionalProperties") {
    const field = String(error.params.additionalProperty);
    path = path ? `${path}.${field}` : field;
    message = `unknown field "${field}"`;
  } else if (error.keyword === "required") {
    message = `missing field "${String(error.params.missingProperty)}"`;
  } else if (error.keyword === "pattern" && path.endsWith(".name")) {
    message = "must be lower case letters, digits or '-', start with a letter, at most 12 characters";
  }
  return { path, message, line: lineOf(path) };
}

/** The 1-based line of a dotted path like "nodes.1.ip", or of its nearest existing parent. */
function lineOfPath(doc: Document, counter: LineCounter, path: string): number | undefined {
  const keys = path === "" ? [] : path.split(".").map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  for (let n = keys.length; n >= 0; n--) {
    const node = doc.getIn(keys.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    const parent = n > 0 ? doc.getIn(keys.slice(0, n - 1), true) : undefined;
    // Point at the key ("ip:") rather than the value when the value is a map or list.
    const pair = isMap(parent) ? parent.items.find((item) => (item.key as { value?: unknown })?.value === keys[n - 1]) : undefined;
    const keyRange = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
    const offset = keyRange?.[0] ?? (isSeq(parent) || !parent ? node?.range?.[0] : undefined) ?? node?.range?.[0];
    if (offset !== undefined) return counter.linePos(offset).line;
  }
  return undefined;
}
