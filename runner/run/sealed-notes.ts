// Grader notes (sdk/grader-notes.ts) as the lab's own steps left them. A student's code runs in the
// same kernel as those steps and could rewrite the notes, or patch keepForGrader, once its first cell
// has run; so when grading, the runner copies the notes just before that cell, and the hidden checks
// read only the copy. A note kept after a student's cell never reaches them: a lab keeps its notes first.
import { copyFileSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ownedTempDir } from "../host/temp-dirs.ts";

/** Larger notes are left out: a step's note is a few kilobytes of JSON. */
const MAX_NOTE_BYTES = 4 * 1024 * 1024;

/** A copy of `notes` in a directory of the runner's own; only regular files named like notes. */
export function sealGraderNotes(notes: string): string {
  const sealed = ownedTempDir("notes");
  for (const name of readdirSync(notes)) {
    const stat = lstatSync(join(notes, name));
    if (/^[A-Za-z0-9_-]{1,64}\.json$/.test(name) && stat.isFile() && stat.size <= MAX_NOTE_BYTES) copyFileSync(join(notes, name), join(sealed, name));
  }
  return sealed;
}
