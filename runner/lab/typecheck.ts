// `labbook lab typecheck` (part of `npm run typecheck`): every code cell of a lab, type-checked with the
// project's TypeScript as it will run. Cells share one scope and may await at top level, so each way a
// lab runs becomes one module, its cells at their own lines of the source and blank lines between:
// - the kernel's: every code cell but grader-setup, in order (a plain run; the hidden checks run in
//   place, after the cells before them);
// - the grader's: grader-setup (raw cells, run as code) then the hidden checks, alone in a fresh process
//   when grading, so they must not lean on a name only the student's kernel has.
// "labbook" is this checkout's SDK source (tslab itself reads the built declarations in dist/).
import { readFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { cellMetadata, isRunnable } from "../notebook/roles.ts";
import { sourceText, type Notebook } from "../notebook/types.ts";
import { cellFirstLines } from "./cell-lines.ts";
import type { LabSource } from "./build.ts";
import { readPercentSources } from "./jupytext.ts";

const CHECKOUT = fileURLToPath(new URL("../../", import.meta.url));

type View = "kernel" | "grader";

interface VirtualModule {
  file: string;
  text: string;
  lab: LabSource;
  view: View;
  /** For each 1-based line of the module: the cell it belongs to (its labbook id, or its number). */
  cellAt: Map<number, string>;
}

function inView(role: string, view: View): boolean {
  return view === "kernel" ? role !== "grader-setup" : role === "grader-setup" || role === "hidden-check";
}

function virtualModule(lab: LabSource, notebook: Notebook, source: string, view: View): VirtualModule {
  const firstLines = cellFirstLines(source, notebook);
  const lines: string[] = firstLines ? source.split("\n").map(() => "") : [];
  const cellAt = new Map<number, string>();
  notebook.cells.forEach((cell, index) => {
    if (!isRunnable(cell)) return;
    const { meta } = cellMetadata(cell, `${lab.source}: cell ${index + 1}`);
    if (!inView(meta.role, view)) return;
    const body = sourceText(cell.source).split("\n");
    // Markers and cells disagree only in a hand-mangled file: then cells follow each other, and errors name the cell.
    const start = firstLines ? firstLines[index]! : lines.length + 2;
    body.forEach((line, offset) => {
      lines[start - 1 + offset] = line;
      cellAt.set(start + offset, meta.id ?? `cell ${index + 1}`);
    });
  });
  // A module even without an import (names local to the lab), and .mts: ES module wherever the lab lives, so top-level await works.
  // Appended to the last line, so no line moves.
  const last = Math.max(lines.length - 1, 0);
  lines[last] = `${lines[last] ?? ""} export {};`;
  return { file: join(dirname(lab.source), `.${basename(lab.source, ".ts")}.${view}.mts`), text: lines.join("\n"), lab, view, cellAt };
}

function compilerOptions(): ts.CompilerOptions {
  const configFile = join(CHECKOUT, "tsconfig.json");
  const config = ts.readConfigFile(configFile, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, CHECKOUT, undefined, configFile);
  // Strict, as the project is, but indexing stays as tslab types it: `const [node1, node2] = c.nodes` is how labs read.
  return { ...parsed.options, noUncheckedIndexedAccess: false, noEmit: true, types: ["node"], paths: { labbook: [join(CHECKOUT, "runner/sdk/index.ts")] } };
}

export interface LabTypeError {
  lab: string;
  line: number;
  column: number;
  cell: string;
  view: View;
  message: string;
  code: number;
}

/** Type errors in the labs' cells; errors in helpers and the SDK are `tsc -p tsconfig.json`'s to report. */
export function typecheckLabs(labs: LabSource[]): LabTypeError[] {
  const notebooks = readPercentSources(labs.map((lab) => lab.source));
  const modules = labs.flatMap((lab, i) => {
    const source = readFileSync(lab.source, "utf8");
    return (["kernel", "grader"] as const).map((view) => virtualModule(lab, notebooks[i]!, source, view));
  });
  const byFile = new Map(modules.map((m) => [m.file, m]));
  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const { getSourceFile, readFile, fileExists } = host;
  host.fileExists = (file) => byFile.has(file) || fileExists.call(host, file);
  host.readFile = (file) => byFile.get(file)?.text ?? readFile.call(host, file);
  host.getSourceFile = (file, language, onError, create) => {
    const module = byFile.get(file);
    return module ? ts.createSourceFile(file, module.text, language, true) : getSourceFile.call(host, file, language, onError, create);
  };
  const program = ts.createProgram([...byFile.keys()], options, host);
  const errors = ts.getPreEmitDiagnostics(program).flatMap((d): LabTypeError[] => {
    const module = d.file ? byFile.get(d.file.fileName) : undefined;
    if (!module || d.start === undefined) return [];
    const { line, character } = d.file!.getLineAndCharacterOfPosition(d.start);
    return [{ lab: module.lab.source, line: line + 1, column: character + 1, cell: module.cellAt.get(line + 1) ?? "?", view: module.view, message: ts.flattenDiagnosticMessageText(d.messageText, "\n"), code: d.code }];
  });
  return errors.sort((a, b) => a.lab.localeCompare(b.lab) || a.line - b.line || a.column - b.column);
}

export function formatLabTypeError(error: LabTypeError, cwd = process.cwd()): string {
  const where = error.view === "kernel" ? "as the notebook's kernel runs it" : "as the grader runs it (grader-setup, then the hidden checks, alone)";
  return `${relative(cwd, error.lab)}(${error.line},${error.column}): error TS${error.code}: ${error.message} [cell ${error.cell}, ${where}]`;
}
