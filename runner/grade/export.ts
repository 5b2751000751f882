// `labbook gradebook export`: a gradebook's final scores (final-scores.ts, recomputed now) in the column layout an
// LMS imports, and a feedback bundle, one file per student, named for upload. Formats, and what they follow:
// - canvas: Canvas's gradebook import CSV: Student, ID, SIS User ID, SIS Login ID, Section, then one column per
//   assignment, and a "Points Possible" row under the header. Students are matched by SIS Login ID (the student id,
//   unless a roster says otherwise); Canvas makes a new assignment for a column it does not know.
// - moodle: Moodle's CSV grade import, which maps columns when it imports: an identifier (ID number, Email address),
//   the grade, and its feedback column (Moodle overwrites a grade's feedback only with both columns imported).
// - csv: every layer spelled out: student, raw, overrides, late days, late penalty, total, max, status.
// A roster (student,name,canvas_id,sis_user_id,sis_login_id,section,email; any subset but student) fills the LMS's
// own identifiers where labbook's student ids are not theirs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LabbookError } from "../errors.ts";
import { csvRecords, csvText } from "./csv.ts";
import { feedbackHtml, feedbackMarkdown } from "./feedback.ts";
import type { Gradebook } from "./gradebook.ts";
import type { StudentGrade } from "./score.ts";

export const EXPORT_FORMATS = ["canvas", "moodle", "csv"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export type Roster = Map<string, Record<string, string>>;

export function readRoster(path: string): Roster {
  if (!existsSync(path)) throw new LabbookError(`--roster ${path}: no such file`);
  try {
    return new Map(csvRecords(readFileSync(path, "utf8"), ["student"], path).map(({ fields }) => [fields.student!, fields]));
  } catch (error) {
    throw new LabbookError((error as Error).message);
  }
}

const title = (book: Gradebook) => `${book.title ?? book.lab} (${book.lab})`;
const maxOf = (book: Gradebook) => book.exercises.reduce((sum, e) => sum + e.points, 0);

function canvas(book: Gradebook, views: StudentGrade[], roster: Roster): string {
  const rows: Array<Array<string | number>> = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", title(book)], ["Points Possible", "", "", "", "", maxOf(book)]];
  for (const s of views) {
    const r = roster.get(s.student) ?? {};
    rows.push([r.name || s.student, r.canvas_id ?? "", r.sis_user_id ?? "", r.sis_login_id || s.student, r.section ?? "", s.status === "error" ? "" : s.total]);
  }
  return csvText(rows);
}

function moodle(book: Gradebook, views: StudentGrade[], roster: Roster): string {
  const item = title(book);
  const rows: Array<Array<string | number>> = [["ID number", "Email address", item, `${item} feedback`]];
  for (const s of views) {
    const r = roster.get(s.student) ?? {};
    const feedback = s.status === "graded" ? `${s.total} / ${s.max}${s.final?.latePenalty ? `, ${s.final.latePenalty} taken for lateness` : ""}${s.final?.overrides.length ? ", adjusted by your instructor" : ""}: see the feedback file` : (s.reason ?? s.status);
    rows.push([r.id_number || s.student, r.email ?? "", s.status === "error" ? "" : s.total, feedback]);
  }
  return csvText(rows);
}

function plain(book: Gradebook, views: StudentGrade[]): string {
  const rows: Array<Array<string | number>> = [["student", "raw", "overrides", "late days", "late penalty", "total", "max", "status"]];
  for (const s of views) {
    rows.push([s.student, s.final?.raw ?? s.total, (s.final?.overrides ?? []).map((o) => `${o.target}=${o.points}`).join(" "), s.final?.late?.daysLate ?? "", s.final?.latePenalty ?? "", s.total, s.max, s.status]);
  }
  return csvText(rows);
}

/** Writes the export to `file` and the feedback bundle beside it (<file>-feedback/<student>_<lab>_feedback.html). */
export function exportGradebook(book: Gradebook, views: StudentGrade[], format: ExportFormat, file: string, roster: Roster = new Map()): { file: string; feedbackDir: string } {
  const text = format === "canvas" ? canvas(book, views, roster) : format === "moodle" ? moodle(book, views, roster) : plain(book, views);
  writeFileSync(file, text);
  const feedbackDir = `${file.replace(/\.csv$/i, "")}-feedback`;
  mkdirSync(feedbackDir, { recursive: true });
  for (const grade of views) {
    const markdown = feedbackMarkdown(`${book.title ?? book.lab}: feedback`, grade);
    writeFileSync(join(feedbackDir, `${grade.student}_${book.lab}_feedback.html`), feedbackHtml(`${book.title ?? book.lab}: feedback for ${grade.student}`, markdown));
  }
  return { file, feedbackDir };
}
