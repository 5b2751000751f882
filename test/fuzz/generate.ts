// Malformed inputs, made from real ones by a seeded generator: the same seed gives the same cases.
// Every case is invalid by construction (broken JSON, a wrong type where the schema has one, ids that
// clash), so each one must be refused with a clear error, never accepted, crashed on or hung on.
import { readFileSync } from "node:fs";
import { seededRandom } from "../helpers/random.ts";

export interface FuzzCase {
  kind: string;
  /** What goes into the file: text, or raw bytes. */
  content: string | Buffer;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Cell = { [key: string]: Json };

const ODD_TEXT = ["\u202e\u0645\u0631\u062d\u0628\u0627", "\u200b\u200d\ufeff", "\u{1F4A5}".repeat(50), "a\u0000b", "\ud800", "\\u0000", "e\u0301\u0301\u0301"];
const WRONG_VALUES: Json[] = [null, true, 42, -1.5, "", "x", [], [1, 2], {}, { a: 1 }];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A value whose JSON type differs from `value`'s. */
function wrongTypeFor(random: () => number, value: unknown): Json {
  const kind = (v: unknown) => (Array.isArray(v) ? "array" : v === null ? "null" : typeof v);
  const candidates = WRONG_VALUES.filter((v) => kind(v) !== kind(value));
  return clone(pick(random, candidates));
}

/** Notebook mutations; each takes a parsed valid notebook and returns an invalid file's content. */
const NOTEBOOK_MUTATIONS: Record<string, (nb: { [key: string]: Json }, random: () => number, text: string) => string | Buffer> = {
  "truncated JSON": (_nb, random, text) => text.slice(0, 1 + Math.floor(random() * (text.length - 2))),
  "binary junk": (_nb, random) => Buffer.from(Array.from({ length: 1 + Math.floor(random() * 4096) }, () => Math.floor(random() * 256))),
  "junk inside the JSON": (_nb, random, text) => {
    const at = Math.floor(random() * text.length);
    // Control characters are invalid anywhere in JSON, inside strings too: the result is never valid.
    return text.slice(0, at) + pick(random, ["\u0000", "\u0001\u0002", "\u001f", "\b", "\u000b"]) + text.slice(at);
  },
  "not a notebook object": (_nb, random) => JSON.stringify(pick(random, [[], 42, "notebook", null, true, [{ cells: [] }]])),
  "empty or blank file": (_nb, random) => pick(random, ["", " ", "\n\n", "\ufeff", "\t"]),
  "wrong top-level type": (nb, random) => {
    const key = pick(random, ["nbformat", "nbformat_minor", "metadata", "cells"]);
    nb[key] = key === "nbformat" ? pick(random, [3, 5, "4", null, 4.5]) : wrongTypeFor(random, nb[key]);
    return JSON.stringify(nb);
  },
  "wrong cell field type": (nb, random) => {
    const cells = nb.cells as Cell[];
    const cell = pick(random, cells);
    const key = pick(random, ["cell_type", "source", "metadata", "id", ...(cell.cell_type === "code" ? ["outputs", "execution_count"] : [])]);
    cell[key] = key === "cell_type" ? pick(random, ["python", "", "CODE", 7]) : key === "execution_count" ? pick(random, ["1", -3, 1.5, [], {}]) : key === "source" ? pick(random, [42, null, {}, [1, 2], [null]]) : wrongTypeFor(random, cell[key]);
    return JSON.stringify(nb);
  },
  "wrong labbook metadata": (nb, random) => {
    const code = (nb.cells as Cell[]).filter((c) => c.cell_type === "code");
    const cell = pick(random, code);
    const meta = (cell.metadata ?? {}) as { [key: string]: Json };
    const field = pick(random, ["role", "timeout", "requires", "points", "whole"]);
    meta.labbook =
      field === "whole"
        ? pick(random, ["step", 3, [], null])
        : { ...((meta.labbook as { [key: string]: Json }) ?? {}), [field]: field === "role" ? pick(random, ["stepp", "", "HIDDEN", 1]) : field === "timeout" ? pick(random, [-1, 0, "10", "forever", null]) : field === "requires" ? pick(random, ["kubernetes", [1], {}, [null]]) : pick(random, [-2, "3", [], null]) };
    cell.metadata = meta;
    return JSON.stringify(nb);
  },
  "missing cell id": (nb, random) => {
    delete pick(random, nb.cells as Cell[]).id;
    nb.nbformat_minor = 5;
    return JSON.stringify(nb);
  },
  "duplicate cell id": (nb, random) => {
    const cells = nb.cells as Cell[];
    const [a, b] = [Math.floor(random() * cells.length), Math.floor(random() * cells.length)];
    const other = a === b ? (a + 1) % cells.length : b;
    cells[other]!.id = cells[a]!.id!;
    return JSON.stringify(nb);
  },
  "duplicate labbook id": (nb, random) => {
    const code = (nb.cells as Cell[]).filter((c) => c.cell_type === "code");
    const id = `dup-${Math.floor(random() * 1000)}`;
    for (const cell of [code[0]!, code[code.length - 1]!]) {
      const meta = cell.metadata as { [key: string]: Json };
      meta.labbook = { ...((meta.labbook as { [key: string]: Json }) ?? {}), id };
    }
    return JSON.stringify(nb);
  },
  "malformed cell id": (nb, random) => {
    pick(random, nb.cells as Cell[]).id = pick(random, ["", "has space", "x".repeat(65), "sl/ash", ...ODD_TEXT]);
    return JSON.stringify(nb);
  },
  "odd unicode where a number belongs": (nb, random) => {
    nb.nbformat_minor = pick(random, ODD_TEXT);
    return JSON.stringify(nb);
  },
  "huge cell with a broken tail": (nb, random) => {
    const cells = nb.cells as Cell[];
    cells.push({ cell_type: "code", id: "huge", metadata: {}, outputs: [], execution_count: null, source: "x".repeat(2_000_000 + Math.floor(random() * 1000)) });
    const text = JSON.stringify(nb);
    return text.slice(0, text.length - 1 - Math.floor(random() * 3));
  },
};

const TOPOLOGY_BASE = { network: { cidr: "192.168.0.0/24", gateway: "192.168.0.1" }, nodes: [{ name: "node1", ip: "192.168.0.11", roles: ["worker"] }, { name: "node2", ip: "192.168.0.12" }] };

const TOPOLOGY_MUTATIONS: Record<string, (random: () => number) => string | Buffer> = {
  "invalid YAML": (random) => pick(random, ["network: [\n", "nodes:\n  - name: a\n   ip: b\n", ": :\n", "a: 'unterminated\n", "\t- tab indented\n"]),
  "binary junk": (random) => Buffer.from(Array.from({ length: 1 + Math.floor(random() * 512) }, () => Math.floor(random() * 256))),
  "not a mapping": (random) => pick(random, ["[]\n", "42\n", "just text\n", "- a\n- b\n", "null\n", ""]),
  "wrong field type": (random) => {
    const t = clone(TOPOLOGY_BASE) as unknown as { [key: string]: { [key: string]: Json } };
    const where = pick(random, ["network", "nodes", "cidr", "gateway", "name", "ip", "roles"]);
    if (where === "network" || where === "nodes") t[where] = wrongTypeFor(random, t[where]) as never;
    else if (where === "cidr" || where === "gateway") t.network![where] = wrongTypeFor(random, "s");
    else ((t.nodes as unknown as Cell[])[0]!)[where] = wrongTypeFor(random, where === "roles" ? [] : "s");
    return JSON.stringify(t);
  },
  "bad address": (random) => {
    const t = clone(TOPOLOGY_BASE);
    const bad = pick(random, ["172.15.0.1", "192.168.0.999", "192.168.0", "::1", "192.168.0.0", "192.168.0.255", "", "node", "\u0661\u0669\u0662.168.0.11"]);
    if (random() < 0.5) t.nodes[1]!.ip = bad;
    else t.network.cidr = pick(random, ["192.168.0.0/33", "192.168.0.0", "10/8", "192.168.0.0/-1", bad]);
    return JSON.stringify(t);
  },
  "duplicate node": (random) => {
    const t = clone(TOPOLOGY_BASE);
    if (random() < 0.5) t.nodes[1]!.name = "node1";
    else t.nodes[1]!.ip = "192.168.0.11";
    return JSON.stringify(t);
  },
  "bad node name": (random) => {
    const t = clone(TOPOLOGY_BASE);
    t.nodes[0]!.name = pick(random, ["", "Node One", "-x", "a".repeat(64), "node;rm -rf /", ...ODD_TEXT]);
    return JSON.stringify(t);
  },
  "no nodes": () => JSON.stringify({ ...TOPOLOGY_BASE, nodes: [] }),
};

export function notebookCases(seed: number, count: number, basePaths: string[]): FuzzCase[] {
  const random = seededRandom(seed);
  const bases = basePaths.map((p) => readFileSync(p, "utf8"));
  const kinds = Object.keys(NOTEBOOK_MUTATIONS);
  return Array.from({ length: count }, (_, i) => {
    const kind = kinds[i % kinds.length]!; // every kind, evenly
    const text = pick(random, bases);
    return { kind, content: NOTEBOOK_MUTATIONS[kind]!(JSON.parse(text) as { [key: string]: Json }, random, text) };
  });
}

export function topologyCases(seed: number, count: number): FuzzCase[] {
  const random = seededRandom(seed);
  const kinds = Object.keys(TOPOLOGY_MUTATIONS);
  return Array.from({ length: count }, (_, i) => {
    const kind = kinds[i % kinds.length]!;
    return { kind, content: TOPOLOGY_MUTATIONS[kind]!(random) };
  });
}
