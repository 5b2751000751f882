// Notebook parameters, papermill's way for TypeScript. A lab declares its defaults in the code cell tagged
// `parameters` (`const seconds = 2; // iperf3's seconds per path`); `labbook run -p seconds 5` adds a cell
// tagged `injected-parameters` right after it that declares them again with the given values (tslab lets a
// later cell redeclare a name, as Python's later assignment does). papermill has no TypeScript translator, so
// this is ours. Unlike papermill, a name the notebook does not declare is an error, not a warning: a typo
// would otherwise run the lab with its default, silently.
import { parse as parseYaml } from "yaml";
import { UsageError } from "../errors.ts";
import { SEED_VARIABLE } from "../sdk/seed.ts";
import { sourceText, type Cell, type CodeCell, type Notebook } from "./types.ts";
import { labVariants } from "./variants.ts";

export const PARAMETERS_TAG = "parameters";
export const INJECTED_TAG = "injected-parameters";

export type ParameterValue = string | number | boolean | null | ParameterValue[] | { [key: string]: ParameterValue };
export type ParameterKind = "number" | "string" | "boolean" | "list" | "map" | "unknown";

export interface DeclaredParameter {
  name: string;
  keyword: "const" | "let" | "var";
  /** The type as written (`: number`), or inferred from the default's literal. */
  kind: ParameterKind;
  /** The default's source text. */
  defaultText: string;
  /** The line's trailing `// comment`. */
  help: string;
  /**
   * For `variant`, which every lab offering variants (metadata.labbook.variants: N) takes without declaring
   * it: how many. Its value, v1..vN, becomes the kernel's seed, which the lab's pickBySeed() choices follow.
   */
  variants?: number;
}

const DECLARATION = /^\s*(?:export\s+)?(const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::\s*([^=]+?))?\s*=\s*(.*?)\s*;?\s*(?:\/\/\s*(.*))?$/;

function tags(cell: Cell): string[] {
  const value = cell.metadata.tags;
  return Array.isArray(value) ? value.filter((t): t is string => typeof t === "string") : [];
}

function kindOfType(written: string): ParameterKind {
  const type = written.trim();
  if (type === "number" || type === "string" || type === "boolean") return type;
  if (/\[\]$|^Array<|^readonly /.test(type)) return "list";
  if (/^Record<|^\{|^Map</.test(type)) return "map";
  return "unknown";
}

function kindOfLiteral(text: string): ParameterKind {
  if (/^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return "number";
  if (text === "true" || text === "false") return "boolean";
  if (/^(["'`]).*\1$/.test(text)) return "string";
  if (text.startsWith("[")) return "list";
  if (text.startsWith("{")) return "map";
  return "unknown";
}

/** The notebook's cell tagged `parameters`, if any. */
export function parametersCellIndex(notebook: Notebook): number {
  return notebook.cells.findIndex((cell) => cell.cell_type === "code" && tags(cell).includes(PARAMETERS_TAG));
}

export const VARIANT_PARAMETER = "variant";

/** The variant parameter of a lab that offers variants (see DeclaredParameter.variants). */
function variantParameter(notebook: Notebook, path: string): DeclaredParameter[] {
  const count = labVariants(notebook, path);
  if (count === undefined) return [];
  const help = `the lab's variant, v1..v${count}: its choices follow it, as in a student's own copy`;
  return [{ name: VARIANT_PARAMETER, keyword: "const", kind: "string", defaultText: "the seed", help, variants: count }];
}

/**
 * What the `parameters` cell declares, one top-level declaration per line (papermill's convention too), and
 * `variant` for a lab that offers variants.
 */
export function declaredParameters(notebook: Notebook, path: string): DeclaredParameter[] {
  const index = parametersCellIndex(notebook);
  const declared: DeclaredParameter[] =
    index < 0
      ? []
      : sourceText(notebook.cells[index]!.source)
          .split("\n")
          .flatMap((line) => {
            const match = DECLARATION.exec(line);
            if (!match) return [];
            const [, keyword, name, type, defaultText, help] = match;
            const kind = type ? kindOfType(type) : kindOfLiteral(defaultText!);
            return [{ name: name!, keyword: keyword as DeclaredParameter["keyword"], kind, defaultText: defaultText!, help: help?.trim() ?? "" }];
          });
  return declared.some((p) => p.name === VARIANT_PARAMETER) ? declared : [...declared, ...variantParameter(notebook, path)];
}

/**
 * A `-p name value` value, typed as papermill types it: true/false (or True/False), null (or None), a number,
 * else the string itself. Lists and maps come from -y or -f, as YAML.
 */
export function parseParameterValue(text: string): ParameterValue {
  if (/^(true|True)$/.test(text)) return true;
  if (/^(false|False)$/.test(text)) return false;
  if (/^(null|None)$/.test(text)) return null;
  if (text.trim() !== "" && Number.isFinite(Number(text)) && !/^0x/i.test(text.trim())) return Number(text);
  return text;
}

/** A YAML map of parameters (-y TEXT, -f FILE); `where` names its source in errors. */
export function parseParameterYaml(text: string, where: string): Record<string, ParameterValue> {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new UsageError(`${where}: not YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) throw new UsageError(`${where}: parameters must be a YAML map of name: value, got ${Array.isArray(parsed) ? "a list" : typeof parsed}`);
  return parsed as Record<string, ParameterValue>;
}

function kindOfValue(value: ParameterValue): ParameterKind {
  if (value === null) return "unknown";
  if (Array.isArray(value)) return "list";
  if (typeof value === "object") return "map";
  return typeof value as "number" | "string" | "boolean";
}

function describe(declared: DeclaredParameter[]): string {
  return declared.length === 0 ? "it declares none (no code cell tagged \"parameters\")" : `it declares: ${declared.map((p) => p.name).join(", ")}`;
}

/** `labbook params NB`: each parameter with its type, default and help, as papermill's --help-notebook lists them. */
export function parametersHelp(notebook: Notebook, path: string): string {
  const declared = declaredParameters(notebook, path);
  if (declared.length === 0) return `${path}: no parameters (no code cell tagged "parameters")`;
  const name = Math.max(...declared.map((p) => p.name.length));
  const value = Math.max(...declared.map((p) => p.defaultText.length));
  const rows = declared.map((p) => `  ${p.name.padEnd(name)}  ${p.kind.padEnd(7)}  default ${p.help ? `${p.defaultText.padEnd(value)}  ${p.help}` : p.defaultText}`);
  return [`${path}: parameters (labbook run ${path} -p NAME VALUE ...)`, ...rows].join("\n");
}

/** The names among `values` that `notebook` declares, checked against each one's type; others are left to the caller. */
function checkedValues(notebook: Notebook, path: string, values: Record<string, ParameterValue>): Map<DeclaredParameter, ParameterValue> {
  const declared = new Map(declaredParameters(notebook, path).map((p) => [p.name, p]));
  const chosen = new Map<DeclaredParameter, ParameterValue>();
  for (const [name, value] of Object.entries(values)) {
    const parameter = declared.get(name);
    if (!parameter) continue;
    const kind = kindOfValue(value);
    // A string given where a number was declared is the usual slip (`-p seconds two`); null fits anything.
    if (parameter.kind !== "unknown" && kind !== "unknown" && kind !== parameter.kind) {
      const raw = parameter.kind === "string" ? `; -r ${name} VALUE passes VALUE as a string, whatever it looks like` : "";
      throw new UsageError(`${path}: parameter ${name} is a ${parameter.kind} (default ${parameter.defaultText}), got ${JSON.stringify(value)} (a ${kind})${raw}`);
    }
    const variants = parameter.variants;
    if (variants !== undefined && !(typeof value === "string" && /^v[1-9]\d*$/.test(value) && Number(value.slice(1)) <= variants)) {
      throw new UsageError(`${path}: parameter ${name} is one of the lab's ${variants} variants, v1..v${variants}, got ${JSON.stringify(value)}`);
    }
    chosen.set(parameter, value);
  }
  return chosen;
}

/** Names in `values` that none of `notebooks` declares: an error, with what each one does declare. */
export function assertParametersKnown(notebooks: Array<{ path: string; notebook: Notebook }>, values: Record<string, ParameterValue>): void {
  const known = new Set(notebooks.flatMap(({ path, notebook }) => declaredParameters(notebook, path).map((p) => p.name)));
  const unknown = Object.keys(values).filter((name) => !known.has(name));
  if (unknown.length === 0) return;
  const each = notebooks.map(({ path, notebook }) => `${path}: ${describe(declaredParameters(notebook, path))}`).join("; ");
  throw new UsageError(`unknown parameter${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}: ${each}`);
}

/**
 * The notebook with `values` injected: a cell tagged `injected-parameters` after the `parameters` cell (any
 * earlier injected cell replaced, as papermill does on a re-run), and the values in metadata.labbook.parameters.
 * Only the names this notebook declares; `notebook` itself is left as it was.
 */
export function injectParameters(notebook: Notebook, path: string, values: Record<string, ParameterValue>): Notebook {
  const chosen = checkedValues(notebook, path, values);
  if (chosen.size === 0) return notebook;
  const cells = notebook.cells.filter((cell) => !tags(cell).includes(INJECTED_TAG));
  const after = parametersCellIndex({ ...notebook, cells });
  const line = (p: DeclaredParameter, value: ParameterValue) =>
    p.variants === undefined ? `${p.keyword} ${p.name} = ${JSON.stringify(value)};` : `process.env.${SEED_VARIABLE} = ${JSON.stringify(value)}; // the lab's variant: the seed its choices follow`;
  const lines = ["// Parameters (injected by labbook run -p)", ...[...chosen].map(([p, value]) => line(p, value))];
  const injected: CodeCell = {
    cell_type: "code",
    id: INJECTED_TAG,
    metadata: { tags: [INJECTED_TAG], labbook: { id: INJECTED_TAG, role: "setup" } },
    source: lines.map((line, i) => (i < lines.length - 1 ? `${line}\n` : line)),
    outputs: [],
    execution_count: null,
  };
  cells.splice(after + 1, 0, injected);
  const labbook = { ...(notebook.metadata.labbook as Record<string, unknown> | undefined), parameters: Object.fromEntries([...chosen].map(([p, value]) => [p.name, value])) };
  return { ...notebook, metadata: { ...notebook.metadata, labbook }, cells };
}
