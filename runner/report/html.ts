import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Notebook } from "../notebook/types.ts";
import type { NotebookRunResult, RunSummary } from "../notebook/results.ts";
import { writeReportFile } from "./files.ts";
import { renderNotebookPage } from "./html-page.ts";
import type { Reporter } from "./types.ts";

/** One HTML page per notebook run, named after the notebook: <outDir>/<name>.html. */
export function htmlReporter(outDir: string): Reporter {
  return {
    async onRunEnd(summary: RunSummary) {
      const written: string[] = [];
      const names = pageNames(summary.notebooks);
      for (const [i, result] of summary.notebooks.entries()) {
        const executed = await readExecutedNotebook(result);
        written.push(await writeReportFile(outDir, names[i]!, renderNotebookPage(result, executed.notebook, executed.problem)));
      }
      return written;
    },
  };
}

/** labs/a/intro.ipynb → intro.html; a second intro.ipynb elsewhere gets intro-2.html rather than overwriting it. */
function pageNames(notebooks: readonly NotebookRunResult[]): string[] {
  const taken = new Set<string>();
  return notebooks.map((result) => {
    const base = path.basename(result.notebook, ".ipynb");
    let name = `${base}.html`;
    for (let n = 2; taken.has(name); n++) name = `${base}-${n}.html`;
    taken.add(name);
    return name;
  });
}

async function readExecutedNotebook(result: NotebookRunResult): Promise<{ notebook?: Notebook; problem?: string }> {
  if (!result.executedNotebook) return { problem: "the run did not write one" };
  try {
    const notebook = JSON.parse(await readFile(result.executedNotebook, "utf8")) as Notebook;
    if (!Array.isArray(notebook?.cells)) return { problem: `${result.executedNotebook} is not a notebook` };
    return { notebook };
  } catch (error) {
    // A broken run may not have written it: the page still shows what is known.
    return { problem: `${result.executedNotebook}: ${(error as Error).message}` };
  }
}
