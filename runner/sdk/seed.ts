// Variants of a lab chosen by a seed: `labbook run --seed S` (and, when grading, the student's
// id) puts it in the kernel's environment, so two students can get different faults while
// each run stays reproducible.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";

export const SEED_VARIABLE = "LABBOOK_SEED";
/** `labbook notebook --student ID`: that student's variant key of each lab, by lab id (JSON). */
export const VARIANTS_VARIABLE = "LABBOOK_VARIANTS";

/**
 * The variant of the notebook Jupyter runs: Jupyter starts a kernel in its notebook's folder, and a student's own
 * copy (`labbook assign --student`) says its variant in metadata.labbook.variant, or `labbook notebook --student`
 * gives each lab's by id. Undefined unless the folder holds exactly one notebook.
 */
function notebookVariant(): string | undefined {
  try {
    const notebooks = readdirSync(process.cwd()).filter((name) => name.endsWith(".ipynb"));
    if (notebooks.length !== 1) return undefined;
    const meta = (JSON.parse(readFileSync(notebooks[0]!, "utf8")) as { metadata?: { labbook?: { variant?: unknown; id?: unknown } } }).metadata?.labbook;
    if (typeof meta?.variant === "string") return meta.variant;
    const byLab = JSON.parse(process.env[VARIANTS_VARIABLE] || "{}") as Record<string, unknown>;
    const key = typeof meta?.id === "string" ? byLab[meta.id] : undefined;
    return typeof key === "string" ? key : undefined;
  } catch {
    return undefined;
  }
}

/** The run's seed: LABBOOK_SEED, else the notebook's variant, else "0" (e.g. in Jupyter with neither). */
export function labSeed(): string {
  return process.env[SEED_VARIABLE] || notebookVariant() || "0";
}

/** One of `choices`, the same one every time for the same seed and salt. */
export function pickBySeed<T>(choices: readonly T[], salt = "", seed = labSeed()): T {
  if (choices.length === 0) throw new Error("pickBySeed: nothing to choose from");
  const digest = createHash("sha256").update(`${salt}\0${seed}`).digest();
  return choices[digest.readUInt32BE(0) % choices.length]!;
}
