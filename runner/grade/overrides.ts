// Manual overrides, a layer grading never writes: overrides.csv (student, target, points, comment), kept by the
// instructor beside the gradebook. A target is an exercise id (its score becomes `points`) or a hidden check's
// name (that check counts `points`, the exercise's score follows). The gradebook and the feedback show each
// override with its comment and the score before it; a regrade keeps them, since they are applied on top.
import { existsSync, readFileSync } from "node:fs";
import { LabbookError } from "../errors.ts";
import { csvRecords } from "./csv.ts";
import type { StudentGrade } from "./score.ts";

export const OVERRIDES_CSV = "overrides.csv";

export interface Override {
  student: string;
  /** An exercise id or a hidden check's name. */
  target: string;
  points: number;
  comment: string;
  /** Where it is written: "overrides.csv:4". */
  source: string;
}

export interface AppliedOverride extends Override {
  /** "exercise" or "check" it matched. */
  kind: "exercise" | "check";
  /** The exercise's score before the override. */
  before: number;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** The overrides in `path` (none when there is no such file); a malformed row is an error naming its line. */
export function readOverrides(path: string): Override[] {
  if (!existsSync(path)) return [];
  let records;
  try {
    records = csvRecords(readFileSync(path, "utf8"), ["student", "target", "points"], path);
  } catch (error) {
    throw new LabbookError((error as Error).message);
  }
  const problems: string[] = [];
  const overrides = records.map(({ line, fields }): Override => {
    const points = Number(fields.points);
    if (!fields.student || !fields.target) problems.push(`${path}:${line}: student and target must not be empty`);
    if (fields.points === "" || !Number.isFinite(points) || points < 0) problems.push(`${path}:${line}: points must be a number of points, not "${fields.points}"`);
    return { student: fields.student ?? "", target: fields.target ?? "", points, comment: fields.comment ?? "", source: `${path}:${line}` };
  });
  if (problems.length) throw new LabbookError(`bad overrides:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  return overrides;
}

/** A grade with the student's overrides applied (a later row for the same target wins), and what each changed. */
export function applyOverrides(grade: StudentGrade, overrides: Override[]): { grade: StudentGrade; applied: AppliedOverride[]; unmatched: Override[] } {
  const mine = overrides.filter((o) => o.student === grade.student);
  const applied: AppliedOverride[] = [];
  const unmatched: Override[] = [];
  const exercises = grade.exercises.map((exercise) => {
    let earned = exercise.earned;
    const before = exercise.earned;
    // A check's override changes its share of the exercise; an exercise's override sets the exercise outright.
    const checkPoints = new Map(exercise.checks.map((c) => [c.name, c.passed ? c.points : 0]));
    let touched = false;
    for (const o of mine) {
      if (checkPoints.has(o.target)) {
        checkPoints.set(o.target, o.points);
        touched = true;
        applied.push({ ...o, kind: "check", before });
      }
    }
    if (touched) {
      const total = exercise.checks.reduce((sum, c) => sum + c.points, 0);
      const got = [...checkPoints.values()].reduce((sum, p) => sum + p, 0);
      earned = total > 0 ? round2(Math.min(exercise.max, (exercise.max * got) / total)) : 0;
    }
    for (const o of mine) {
      if (o.target === exercise.id) {
        earned = o.points;
        applied.push({ ...o, kind: "exercise", before });
      }
    }
    return { ...exercise, earned };
  });
  for (const o of mine) if (!applied.some((a) => a.source === o.source)) unmatched.push(o);
  const total = round2(exercises.reduce((sum, e) => sum + e.earned, 0));
  return { grade: { ...grade, exercises, total }, applied, unmatched };
}
