// A student's hand-in, read leniently (Jupyter versions differ, students edit metadata) but never
// trusted: only the sources of the lab's exercise cells are taken from it, matched by cell id.
// Everything else the student changed is reported and ignored: the grader runs the instructor's cells.
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { labVersion, type AssignmentStamp } from "./assign.ts";
import { labName, type LabPlan } from "./lab-plan.ts";

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
  /** Why the submission cannot be graded at all (it scores 0). */
  rejected?: string;
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
  return { path, student: studentIdFrom(path, metadata), answers: new Map(), notes: [], rejected: reason };
}

/** Reads one submission; never throws for anything the student did. */
export function readSubmission(path: string, plan: LabPlan): Submission {
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
  const lab = labName(plan);
  if (stamp && typeof stamp.lab === "string" && stamp.lab !== lab) {
    return rejected(path, `it is a notebook for lab "${stamp.lab}", not "${lab}"`, metadata);
  }
  const submission = matchExercises(path, plan, notebook.cells as LooseCell[], metadata);
  if (stamp && typeof stamp.version === "string" && stamp.version !== labVersion(plan)) {
    submission.notes.push("it was handed out from another version of the lab; it was graded against the current one");
  }
  return submission;
}

function matchExercises(path: string, plan: LabPlan, cells: LooseCell[], metadata: unknown): Submission {
  const submission: Submission = { path, student: studentIdFrom(path, metadata), answers: new Map(), notes: [] };
  const exerciseIds = new Set(plan.exercises.map((e) => e.exercise.id));
  const instructorIds = new Set(plan.notebook.cells.map((c) => (c.metadata.labbook as { id?: string } | undefined)?.id ?? c.id));
  const instructorSources = new Map(plan.notebook.cells.map((c) => [(c.metadata.labbook as { id?: string } | undefined)?.id ?? c.id, Array.isArray(c.source) ? c.source.join("") : c.source]));
  let current: ExerciseAnswer | undefined; // the exercise that cells the student adds after it belong to
  const order: string[] = [];
  const stray: number[] = [];
  const edited: string[] = [];
  cells.forEach((raw, index) => {
    const cell = (typeof raw === "object" && raw !== null ? raw : {}) as LooseCell;
    if (cell.cell_type !== "code") return; // markdown and raw cells are the student's notes
    const id = cellId(cell);
    const source = cellSource(cell);
    if (source === undefined) {
      submission.notes.push(`cell ${index + 1} has no readable source and was ignored`);
      return;
    }
    if (id !== undefined && exerciseIds.has(id)) {
      if (submission.answers.has(id)) {
        submission.notes.push(`exercise "${id}" appears more than once; the first copy was graded`);
        current = undefined;
        return;
      }
      current = { source, added: [] };
      submission.answers.set(id, current);
      order.push(id);
    } else if (id !== undefined && instructorIds.has(id)) {
      current = undefined;
      if (instructorSources.get(id)?.trim() !== source.trim()) edited.push(id);
    } else if (current) {
      current.added.push(source);
    } else if (source.trim()) {
      stray.push(index + 1);
    }
  });
  for (const id of exerciseIds) if (!submission.answers.has(id)) submission.notes.push(`exercise "${id}" is missing from the submission: it scores 0`);
  const expected = plan.exercises.map((e) => e.exercise.id).filter((id) => submission.answers.has(id));
  if (order.join() !== expected.join()) submission.notes.push(`the exercises are in a different order (${order.join(", ")}); they were run in the lab's order`);
  for (const [id, answer] of submission.answers) {
    if (answer.added.length) submission.notes.push(`${answer.added.length} cell${answer.added.length === 1 ? "" : "s"} added after exercise "${id}" ran as part of it`);
  }
  if (stray.length) submission.notes.push(`code cells you added outside the exercises were not run (cell${stray.length === 1 ? "" : "s"} ${stray.join(", ")})`);
  if (edited.length) submission.notes.push(`your changes to the lab's own cells were not used; the grader ran the original (${edited.join(", ")})`);
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
