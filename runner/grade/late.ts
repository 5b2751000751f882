// Deadlines, recomputed every time a gradebook is written or exported: a lab's due date and late policy
// (course-file.ts), each student's extension (extensions.csv: student,lab,days), and when each one handed in
// (submitted.csv: student,submitted_at, or the file's modification time when grading read it).
import { existsSync, readFileSync } from "node:fs";
import type { CourseFile, LatePolicy } from "../course/course-file.ts";
import { LabbookError } from "../errors.ts";
import { csvRecords } from "./csv.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

export interface Lateness {
  dueAt: string;
  submittedAt: string;
  extensionDays: number;
  /** Whole days late, a part of a day counting as one; 0 when on time. */
  daysLate: number;
  /** The fraction taken from the score. */
  penaltyFraction: number;
}

export interface Deadlines {
  due?: Date;
  late?: LatePolicy;
  /** Student -> extra days. */
  extensions: Map<string, number>;
  /** Student -> submission time, from the manifest; graded times fill the rest. */
  submitted: Map<string, Date>;
}

function records(path: string | undefined, required: string[]) {
  if (!path) return [];
  if (!existsSync(path)) throw new LabbookError(`${path}: no such file (named in the course file)`);
  try {
    return csvRecords(readFileSync(path, "utf8"), required, path);
  } catch (error) {
    throw new LabbookError((error as Error).message);
  }
}

/** What the course file says of one lab's deadlines, with its extensions and submission manifest read. */
export function deadlinesFor(course: CourseFile | undefined, lab: string): Deadlines {
  const settings = course?.labs[lab] ?? {};
  const extensions = new Map<string, number>();
  for (const { line, fields } of records(course?.extensions, ["student", "lab", "days"])) {
    if (fields.lab !== lab) continue;
    const days = Number(fields.days);
    if (!Number.isFinite(days) || days < 0) throw new LabbookError(`${course!.extensions}:${line}: days must be a number of days, not "${fields.days}"`);
    extensions.set(fields.student!, (extensions.get(fields.student!) ?? 0) + days);
  }
  const submitted = new Map<string, Date>();
  for (const { line, fields } of records(course?.submitted, ["student", "submitted_at"])) {
    const at = new Date(fields.submitted_at!);
    if (Number.isNaN(at.getTime())) throw new LabbookError(`${course!.submitted}:${line}: submitted_at must be an ISO 8601 time, not "${fields.submitted_at}"`);
    submitted.set(fields.student!, at);
  }
  return { ...(settings.due ? { due: settings.due } : {}), ...(settings.late ? { late: settings.late } : {}), extensions, submitted };
}

/** How late one submission is, or undefined when the lab has no due date or the time is unknown. */
export function lateness(deadlines: Deadlines, student: string, gradedSubmittedAt: string | undefined): Lateness | undefined {
  if (!deadlines.due) return undefined;
  const at = deadlines.submitted.get(student) ?? (gradedSubmittedAt ? new Date(gradedSubmittedAt) : undefined);
  if (!at) return undefined;
  const extensionDays = deadlines.extensions.get(student) ?? 0;
  const due = new Date(deadlines.due.getTime() + extensionDays * DAY_MS);
  const daysLate = Math.max(0, Math.ceil((at.getTime() - due.getTime()) / DAY_MS));
  const policy = deadlines.late ?? { perDay: 0, cap: 1 };
  return { dueAt: due.toISOString(), submittedAt: at.toISOString(), extensionDays, daysLate, penaltyFraction: Math.min(policy.cap, policy.perDay * daysLate) };
}
