// The gradebook: gradebook.json with everything, gradebook.csv for an LMS. Students are sorted by id
// and the CSV has no timings, so the same submissions give the same CSV however they were scheduled.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LabbookError } from "../errors.ts";
import { csvText } from "./csv.ts";
import type { StudentGrade } from "./score.ts";

export interface Gradebook {
  lab: string;
  /** The instructor notebook's digest (as `assign` stamps it): shards of one class must agree. */
  labVersion: string;
  exercises: Array<{ id: string; points: number }>;
  /** The lab's title, for feedback pages. */
  title?: string;
  /** The instructor's notebook it was graded with: exports find the course file (deadlines) from it. */
  labPath?: string;
  /** "i/n" when this is one shard of a class. */
  shard?: string;
  gradedAt: string;
  students: StudentGrade[];
}

export const GRADEBOOK_JSON = "gradebook.json";
export const GRADEBOOK_CSV = "gradebook.csv";


/** The kinds of what looked like tampering, e.g. "display-hook missing-check"; empty when nothing was seen (details: gradebook.json). */
export function suspiciousColumn(grade: StudentGrade): string {
  return [...new Set((grade.suspicious ?? []).map((s) => s.kind))].join(" ");
}

/**
 * One row per student, from the final view (final-scores.ts): each exercise's score with overrides, grading's raw
 * total, the overrides applied, the late days and penalty, the final total.
 */
export function gradebookCsv(book: Gradebook): string {
  const header = ["student", ...book.exercises.map((e) => `${e.id} (${e.points})`), "raw", "overrides", "late days", "late penalty", "total", "max", "status", "reason", "suspicious"];
  const rows = book.students.map((s) => [
    s.student,
    ...book.exercises.map((e) => s.exercises.find((x) => x.id === e.id)?.earned ?? 0),
    s.final?.raw ?? s.total,
    (s.final?.overrides ?? []).map((o) => `${o.target}=${o.points}`).join(" "),
    s.final?.late ? s.final.late.daysLate : "",
    s.final?.late ? s.final.latePenalty : "",
    s.total,
    s.max,
    s.status,
    s.reason ?? "",
    suspiciousColumn(s),
  ]);
  // The variant each student had, for a lab that offers some (grade/variants.ts).
  if (book.students.some((s) => s.variant !== undefined)) {
    header.push("variant");
    rows.forEach((row, i) => row.push(book.students[i]!.variant ?? ""));
  }
  return csvText([header, ...rows]);
}

export function sortStudents(students: StudentGrade[]): StudentGrade[] {
  return [...students].sort((a, b) => (a.student < b.student ? -1 : a.student > b.student ? 1 : 0));
}

export function readGradebook(path: string): Gradebook {
  const file = path.endsWith(".json") ? path : join(path, GRADEBOOK_JSON);
  let book: Gradebook;
  try {
    book = JSON.parse(readFileSync(file, "utf8")) as Gradebook;
  } catch (error) {
    throw new LabbookError(`${file}: not a labbook gradebook: ${(error as Error).message}`);
  }
  if (typeof book?.lab !== "string" || !Array.isArray(book.students) || !Array.isArray(book.exercises)) throw new LabbookError(`${file}: not a labbook gradebook (no lab, exercises or students)`);
  return book;
}

/** Joins shards of one class: same lab and version, no student twice. */
export function mergeGradebooks(books: Array<{ source: string; book: Gradebook }>): Gradebook {
  const [first] = books;
  if (!first) throw new LabbookError("nothing to merge");
  const problems: string[] = [];
  const owner = new Map<string, string>();
  for (const { source, book } of books) {
    if (book.lab !== first.book.lab || book.labVersion !== first.book.labVersion) {
      problems.push(`${source} is for ${book.lab} (version ${book.labVersion}), ${first.source} for ${first.book.lab} (version ${first.book.labVersion})`);
    }
    for (const student of book.students) {
      const previous = owner.get(student.student);
      if (previous) problems.push(`student "${student.student}" is in both ${previous} and ${source}: were the shards cut from different submission lists?`);
      owner.set(student.student, source);
    }
  }
  if (problems.length) throw new LabbookError(`cannot merge these gradebooks:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  const { shard: _shard, ...rest } = first.book;
  return { ...rest, gradedAt: books.map((b) => b.book.gradedAt).sort().at(-1)!, students: sortStudents(books.flatMap((b) => b.book.students)) };
}
