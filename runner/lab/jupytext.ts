// A lab's source is a jupytext "percent" file (TypeScript with `// %%` cell markers, markdown as `//`
// comments, each cell's labbook metadata on its marker line). jupytext itself reads it: it is the kept
// tool for this format, installed from PyPI into .labbook/venv (infra/requirements.txt).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LabbookError } from "../errors.ts";
import type { Notebook } from "../notebook/types.ts";

const CHECKOUT = fileURLToPath(new URL("../../", import.meta.url));
export const VENV_PYTHON = join(CHECKOUT, ".labbook", "venv", "bin", "python");

/** Reads every file with jupytext in one Python process; each answer is the file's notebook, or jupytext's error. */
const READ_ALL = `
import json, sys, jupytext
out = {}
for path in sys.argv[1:]:
    try:
        out[path] = {"notebook": json.loads(jupytext.writes(jupytext.read(path, fmt="ts:percent"), fmt="ipynb"))}
    except Exception as error:
        out[path] = {"error": f"{type(error).__name__}: {error}"}
print(json.dumps(out))
`;

export class LabSourceError extends LabbookError {
  override exitCode = 2;
}

/** The notebooks jupytext reads from these percent-format sources, in order. */
export function readPercentSources(paths: string[]): Notebook[] {
  if (paths.length === 0) return [];
  if (!existsSync(VENV_PYTHON)) {
    throw new LabbookError(
      `jupytext is not installed (no ${VENV_PYTHON}): run "sudo infra/setup.sh test", or by hand: ` +
        `python3 -m venv .labbook/venv && .labbook/venv/bin/pip install -r infra/requirements.txt`,
    );
  }
  const run = spawnSync(VENV_PYTHON, ["-c", READ_ALL, ...paths], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (run.status !== 0) throw new LabbookError(`jupytext failed (${VENV_PYTHON}): ${(run.stderr || run.error?.message || "").trim().split("\n").slice(-3).join(" ")}`);
  const answers = JSON.parse(run.stdout) as Record<string, { notebook?: Notebook; error?: string }>;
  return paths.map((path) => {
    const answer = answers[path];
    if (!answer?.notebook) throw new LabSourceError(`${path}: jupytext cannot read it as a percent-format notebook: ${answer?.error ?? "no answer"}`);
    return answer.notebook;
  });
}
