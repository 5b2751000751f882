// Variants of a lab chosen by a seed: `labbook run --seed S` (and, when grading, the student's
// id) puts it in the kernel's environment, so two students can get different faults while
// each run stays reproducible.
import { createHash } from "node:crypto";

export const SEED_VARIABLE = "LABBOOK_SEED";

/** The run's seed; "0" when none was given (e.g. in Jupyter without LABBOOK_SEED). */
export function labSeed(): string {
  return process.env[SEED_VARIABLE] || "0";
}

/** One of `choices`, the same one every time for the same seed and salt. */
export function pickBySeed<T>(choices: readonly T[], salt = "", seed = labSeed()): T {
  if (choices.length === 0) throw new Error("pickBySeed: nothing to choose from");
  const digest = createHash("sha256").update(`${salt}\0${seed}`).digest();
  return choices[digest.readUInt32BE(0) % choices.length]!;
}
