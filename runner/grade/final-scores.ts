// A gradebook's final scores: grading's raw scores, then the instructor's overrides (overrides.ts), then the late
// policy (late.ts). Recomputed whenever the gradebook is written or exported, from files the instructor keeps,
// so a changed override, extension or due date needs no regrade. Raw scores are never changed.
import { join } from "node:path";
import { findCourseFile, type CourseFile } from "../course/course-file.ts";
import type { Gradebook } from "./gradebook.ts";
import { deadlinesFor, lateness, type Deadlines, type Lateness } from "./late.ts";
import { applyOverrides, OVERRIDES_CSV, readOverrides, type AppliedOverride, type Override } from "./overrides.ts";
import type { StudentGrade } from "./score.ts";

export interface FinalScore {
  /** What grading gave. */
  raw: number;
  overrides: AppliedOverride[];
  afterOverrides: number;
  late?: Lateness;
  latePenalty: number;
  /** What the student gets. */
  total: number;
}

export interface Layers {
  overrides: Override[];
  overridesFile: string;
  course?: CourseFile;
  deadlines: Deadlines;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** The layers for a gradebook in `outDir`: its overrides.csv (or `overridesFile`) and the course file of its lab. */
export function loadLayers(book: Pick<Gradebook, "lab" | "labPath">, outDir: string, options: { overridesFile?: string; courseFile?: string } = {}): Layers {
  const overridesFile = options.overridesFile ?? join(outDir, OVERRIDES_CSV);
  const course = book.labPath || options.courseFile ? findCourseFile(book.labPath ?? outDir, options.courseFile) : undefined;
  return { overrides: readOverrides(overridesFile), overridesFile, ...(course ? { course } : {}), deadlines: deadlinesFor(course, book.lab) };
}

/** One student's final score, and the view the CSV and the feedback show: the exercises with overrides, the final total. */
export function finalGrade(raw: StudentGrade, layers: Layers): { view: StudentGrade; final: FinalScore; unmatched: Override[] } {
  const { final: _previous, ...grade } = raw;
  const { grade: overridden, applied, unmatched } = applyOverrides(grade, layers.overrides);
  const late = grade.status === "graded" ? lateness(layers.deadlines, grade.student, grade.submittedAt) : undefined;
  const latePenalty = late ? round2(overridden.total * late.penaltyFraction) : 0;
  const final: FinalScore = { raw: grade.total, overrides: applied, afterOverrides: overridden.total, ...(late ? { late } : {}), latePenalty, total: round2(Math.max(0, overridden.total - latePenalty)) };
  return { view: { ...overridden, total: final.total, final }, final, unmatched };
}

/**
 * The book with its layers: `book` keeps grading's raw scores, each with its `final` beside it (gradebook.json);
 * `views` are what the CSV and the feedback show. Overrides that match no student or target come back to be reported.
 */
export function withFinalScores(book: Gradebook, layers: Layers): { book: Gradebook; views: StudentGrade[]; unmatched: Override[] } {
  const unmatched: Override[] = [];
  const views: StudentGrade[] = [];
  const students = book.students.map((grade) => {
    const result = finalGrade(grade, layers);
    unmatched.push(...result.unmatched);
    views.push(result.view);
    const { final: _previous, ...raw } = grade;
    return { ...raw, final: result.final };
  });
  const known = new Set(book.students.map((s) => s.student));
  unmatched.push(...layers.overrides.filter((o) => !known.has(o.student)));
  return { book: { ...book, students }, views, unmatched };
}
