// A student's hand-in, read leniently (Jupyter versions differ, students edit metadata) but never
// trusted: only the sources of the lab's exercise cells are taken from it, matched by cell id.
// Everything else the student changed is reported and ignored: the grader runs the instructor's cells.
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { sourceText } from "../notebook/types.ts";
import type { Suspicion } from "./suspicious.ts";
import { labVersion, sourceDigest, studentCells, type AssignmentStamp } from "./assign.ts";
import { labId, type LabPlan } from "./lab-plan.ts";

/** Bigger files are refused unread; a notebook with a 50 MB output is well within it. */
export const MAX_SUBMISSION_BYTES = 200 * 1024 * 1024;

export interface ExerciseAnswer {
  /** The exercise cell's source as the student left it. */
  source: string;
  /** Code cells the student added right after the exercise (before the next cell of the lab): run as part of it. */
  added: string[];
}

export interface Submission {
  path: string;
  /** From metadata.labbook.student, else the file name; safe as a file name. */
  student: string;
  /** Exercise id -> the student's answer; missing exercises are absent. */
  answers: Map<string, ExerciseAnswer>;
  /** What the grader did about the student's changes, for the feedback. */
  notes: string[];
  /** The file's modification time (when it was handed in, unless a manifest says otherwise) and its digest. */
  submittedAt?: string;
  digest?: string;
  /** Why the submission cannot be graded at all (it scores 0). */
  rejected?: string;
  /**
   * What looks like tampering, for the instructor only (gradebook's `suspicious`), never in the student's
   * feedback: it may name hidden cells. It flags; it changes no score.
   */
  suspicious: Suspicion[];
}

interface LooseCell {
  cell_type?: unknown;
  id?: unknown;
  metadata?: { labbook?: { id?: unknown; role?: unknown } };
  source?: unknown;
}

const SAFE_ID = /[^A-Za-z0-9._-]+/g;

export function studentIdFrom(path: string, metadata: unknown): string {
  const declared = (metadata as { labbook?: { student?: unknown } } | undefined)?.labbook?.student;
  const raw = typeof declared === "string" && declared.trim() ? declared.trim() : basename(path).replace(/\.ipynb$/i, "");
  return raw.replace(SAFE_ID, "_").replace(/^[._]+/, "").slice(0, 64) || "unnamed";
}

function cellSource(cell: LooseCell): string | undefined {
  if (typeof cell.source === "string") return cell.source;
  if (Array.isArray(cell.source) && cell.source.every((s) => typeof s === "string")) return cell.source.join("");
  return undefined;
}

function cellId(cell: LooseCell): string | undefined {
  const labbookId = cell.metadata?.labbook?.id;
  if (typeof labbookId === "string") return labbookId;
  return typeof cell.id === "string" ? cell.id : undefined;
}

function rejected(path: string, reason: string, metadata?: unknown): Submission {
  return { path, student: studentIdFrom(path, metadata), answers: new Map(), notes: [], suspicious: [], rejected: reason };
}

/** Reads one submission; never throws for anything the student did. */
export function readSubmission(path: string, plan: LabPlan): Submission {
  const read = readSubmissionFile(path, plan);
  try {
    const stat = statSync(path);
    return { ...read, submittedAt: stat.mtime.toISOString(), digest: createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 16) };
  } catch {
    return read;
  }
}

function readSubmissionFile(path: string, plan: LabPlan): Submission {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size === 0) return rejected(path, "the file is empty");
    if (size > MAX_SUBMISSION_BYTES) return rejected(path, `the file is ${(size / 1048576).toFixed(0)} MB, over the ${MAX_SUBMISSION_BYTES / 1048576} MB limit`);
    text = readFileSync(path, "utf8");
  } catch (error) {
    return rejected(path, `cannot read it: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return rejected(path, `not a notebook: invalid JSON (${(error as Error).message})`);
  }
  const notebook = data as { cells?: unknown; metadata?: unknown } | null;
  if (typeof notebook !== "object" || notebook === null || Array.isArray(notebook) || !Array.isArray(notebook.cells)) {
    return rejected(path, 'not a notebook: no "cells" list at the top level');
  }
  const metadata = notebook.metadata;
  const stamp = (metadata as { labbook?: { assignment?: Partial<AssignmentStamp> } } | undefined)?.labbook?.assignment;
  const lab = labId(plan);
  if (stamp && typeof stamp.lab === "string" && stamp.lab !== lab) {
    return rejected(path, `it is a notebook for lab "${stamp.lab}", not "${lab}"`, metadata);
  }
  const submission = matchExercises(path, plan, notebook.cells as LooseCell[], metadata, stamp?.cells);
  if (stamp && typeof stamp.version === "string" && stamp.version !== labVersion(plan)) {
    submission.notes.push("it was handed out from another version of the lab; it was graded against the current one");
  }
  return submission;
}

/** What in a student's source reaches around the SDK for the channel checks are reported on. */
const TAMPERING: Array<[RegExp, Suspicion["kind"], string]> = [
  [/vnd\.labbook\.check|CHECK_MIME/, "check-mime", "writes labbook's check MIME type itself, not through check()"],
  [/lastWriteDisplayData|labbook\.display|tslab\/dist\/jupyter/, "display-hook", "reaches for the kernel's display hook"],
];

function matchExercises(path: string, plan: LabPlan, cells: LooseCell[], metadata: unknown, handedOut: Record<string, string> | undefined): Submission {
  const submission: Submission = { path, student: studentIdFrom(path, metadata), answers: new Map(), notes: [], suspicious: [] };
  const exerciseIds = new Set(plan.exercises.map((e) => e.exercise.id));
  // Only the cells a student was given: an id of a hidden cell is the student's own cell, and is never named back.
  const given = studentCells(plan).filter((c) => c.cell_type === "code");
  const idOf = (c: { id: string; metadata: Record<string, unknown> }) => (c.metadata.labbook as { id?: string } | undefined)?.id ?? c.id;
  const instructorSources = new Map(given.map((c) => [idOf(c), sourceText(c.source)]));
  const hiddenIds = new Set([...plan.hiddenChecks, ...plan.graderSetup, ...plan.exercises.map((e) => e.solution)].map((c) => c.id));
  let current: ExerciseAnswer | undefined; // the exercise that cells the student adds after it belong to
  const order: string[] = [];
  const stray: number[] = [];
  const edited: string[] = [];
  const labChanged: string[] = [];
  cells.forEach((raw, index) => {
    const cell = (typeof raw === "object" && raw !== null ? raw : {}) as LooseCell;
    if (cell.cell_type !== "code") return; // markdown and raw cells are the student's notes
    const id = cellId(cell);
    const source = cellSource(cell);
    if (source === undefined) {
      submission.notes.push(`cell ${index + 1} has no readable source and was ignored`);
      return;
    }
    if (id !== undefined && hiddenIds.has(id)) submission.suspicious.push({ kind: "hidden-id", detail: `cell ${index + 1} carries the id "${id}" of one of the lab's hidden cells` });
    if (id !== undefined && exerciseIds.has(id)) {
      if (submission.answers.has(id)) {
        submission.notes.push(`exercise "${id}" appears more than once; the first copy was graded`);
        current = undefined;
        return;
      }
      current = { source, added: [] };
      submission.answers.set(id, current);
      order.push(id);
    } else if (id !== undefined && instructorSources.has(id)) {
      current = undefined;
      if (instructorSources.get(id)!.trim() === source.trim()) return;
      // As handed out, the lab's cell since changed: the lab's edit, not the student's.
      if (handedOut?.[id] !== undefined && handedOut[id] === sourceDigest(source)) labChanged.push(id);
      else edited.push(id);
    } else if (current) {
      current.added.push(source);
    } else if (source.trim()) {
      stray.push(index + 1);
    }
  });
  for (const [id, answer] of submission.answers) {
    for (const text of [answer.source, ...answer.added]) {
      for (const [pattern, kind, what] of TAMPERING) if (pattern.test(text)) submission.suspicious.push({ kind, detail: `the code of exercise "${id}" ${what}` });
    }
  }
  for (const id of exerciseIds) if (!submission.answers.has(id)) submission.notes.push(`exercise "${id}" is missing from the submission: it scores 0`);
  const expected = plan.exercises.map((e) => e.exercise.id).filter((id) => submission.answers.has(id));
  if (order.join() !== expected.join()) submission.notes.push(`the exercises are in a different order (${order.join(", ")}); they were run in the lab's order`);
  for (const [id, answer] of submission.answers) {
    if (answer.added.length) submission.notes.push(`${answer.added.length} cell${answer.added.length === 1 ? "" : "s"} added after exercise "${id}" ran as part of it`);
  }
  if (stray.length) submission.notes.push(`code cells you added outside the exercises were not run (cell${stray.length === 1 ? "" : "s"} ${stray.join(", ")})`);
  if (edited.length) submission.notes.push(`you changed the lab's own cells (${edited.join(", ")}); your changes were not used, the grader ran the lab's`);
  if (labChanged.length) submission.notes.push(`the lab's cells ${labChanged.join(", ")} changed after you got the lab (not by you); the grader ran their current version`);
  if (submission.answers.size === 0) {
    return { ...submission, rejected: `none of the lab's exercise cells (${[...exerciseIds].join(", ")}) is in it: is it a notebook for this lab?` };
  }
  return submission;
}

/** Unique student ids across a batch, in path order: a repeated id gets -2, -3... and a note. */
export function disambiguateStudents(submissions: Submission[]): void {
  const seen = new Map<string, number>();
  for (const submission of submissions) {
    const count = (seen.get(submission.student) ?? 0) + 1;
    seen.set(submission.student, count);
    if (count > 1) {
      submission.notes.push(`another submission already uses the id "${submission.student}"; this one is "${submission.student}-${count}"`);
      submission.student = `${submission.student}-${count}`;
    }
  }
}
