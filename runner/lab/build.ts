// `labbook lab build`: each lab's notebook, written from its source. The notebooks are committed (Jupyter,
// `labbook run`, `assign` and GitHub's viewer find them without Python); `--check` is CI's guard that none
// lags its source.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { LabbookError } from "../errors.ts";
import { notebookJson, schemaProblems } from "../notebook/read.ts";
import { cellMetadata } from "../notebook/roles.ts";
import type { Notebook } from "../notebook/types.ts";
import { cellFirstLines } from "./cell-lines.ts";
import { readPercentSources, LabSourceError } from "./jupytext.ts";
import { LAB_SOURCE_SUFFIX, labNotebook } from "./lab-notebook.ts";

export interface LabSource {
  /** labs/NN-name/NN-name.lab.ts */
  source: string;
  /** labs/NN-name/NN-name.ipynb, what students open */
  notebook: string;
}

function sourceOf(file: string): LabSource {
  return { source: file, notebook: join(dirname(file), `${basename(file, LAB_SOURCE_SUFFIX)}.ipynb`) };
}

/** The lab sources in a folder: its own `*.lab.ts`, else those of its sub-folders (labs/ holds one folder per lab). */
function sourcesIn(dir: string, depth: number): string[] {
  const entries = readdirSync(dir).sort();
  const own = entries.filter((name) => name.endsWith(LAB_SOURCE_SUFFIX)).map((name) => join(dir, name));
  if (own.length > 0 || depth === 0) return own;
  return entries.filter((name) => !name.startsWith(".") && name !== "node_modules" && statSync(join(dir, name)).isDirectory()).flatMap((name) => sourcesIn(join(dir, name), depth - 1));
}

/** Lab sources named by paths: `.lab.ts` files, or folders holding them (one level down, as labs/ does). */
export function findLabSources(paths: string[]): LabSource[] {
  return paths.flatMap((path) => {
    if (!existsSync(path)) throw new LabbookError(`${path}: no such file or folder`);
    if (statSync(path).isDirectory()) {
      const found = sourcesIn(resolve(path), 1);
      if (found.length === 0) throw new LabbookError(`${path}: no lab source (*${LAB_SOURCE_SUFFIX}) in it or in its folders`);
      return found.map(sourceOf);
    }
    if (!path.endsWith(LAB_SOURCE_SUFFIX)) throw new LabbookError(`${path}: a lab source ends in ${LAB_SOURCE_SUFFIX} (a jupytext percent-format file)`);
    return [sourceOf(resolve(path))];
  });
}

export interface BuiltLab extends LabSource {
  text: string;
  /** The committed notebook already says exactly this. */
  upToDate: boolean;
}

/** Each cell's labbook metadata, checked as `labbook run` will, named by the line of its `// %%` marker. */
function metadataProblems(lab: LabSource, notebook: Notebook): string[] {
  const firstLines = cellFirstLines(readFileSync(lab.source, "utf8"), notebook);
  return notebook.cells.flatMap((cell, index) => {
    const where = firstLines ? `${lab.source}:${firstLines[index]! - 1}` : `${lab.source}: cell ${index + 1}`;
    // jupytext keeps a marker's metadata that is not key=JSON pairs under this key, rather than failing.
    const garbled = cell.metadata.incorrectly_encoded_metadata;
    if (garbled !== undefined) return [`${where}: the cell marker's metadata is not key=JSON pairs: ${String(garbled)}`];
    return cellMetadata(cell, where).problems;
  });
}

/** Each source's notebook text, and whether the notebook on disk already has it. Writes nothing. */
export function buildLabs(labs: LabSource[]): BuiltLab[] {
  const notebooks = readPercentSources(labs.map((lab) => lab.source));
  return labs.map((lab, i) => {
    const notebook = labNotebook(notebooks[i]!, basename(lab.source, LAB_SOURCE_SUFFIX));
    const wrong = metadataProblems(lab, notebook);
    if (wrong.length) throw new LabSourceError(wrong.join("\n"));
    const problems = schemaProblems(notebook);
    if (problems.length) throw new LabSourceError(`${lab.source}: the notebook it makes does not follow nbformat 4.5:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    const text = notebookJson(notebook);
    const upToDate = existsSync(lab.notebook) && readFileSync(lab.notebook, "utf8") === text;
    return { ...lab, text, upToDate };
  });
}

export function writeBuiltLabs(built: BuiltLab[]): void {
  for (const lab of built) if (!lab.upToDate) writeFileSync(lab.notebook, lab.text);
}
