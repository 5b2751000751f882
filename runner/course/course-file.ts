// The course file, labbook.yaml at a course folder's root (`labbook init` writes one): what grading needs to
// know beyond a lab, kept by the instructor in their repository. Found by walking up from the lab's folder, or
// named with --course. Every field is optional:
//
//   labs:
//     k1:
//       due: 2026-12-10T23:59:00+01:00   # ISO 8601; without a zone, UTC
//       late: { per-day: 10%, cap: 50% } # taken from the score per day late (or part of one), at most cap
//   extensions: extensions.csv          # student,lab,days: more days before the lab's due date counts
//   submitted: submitted.csv            # student,submitted_at: submission times; else each file's mtime
//   secret: a long random string        # picks each student's variant of labs that offer some (grade/variants.ts)
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";
import { LabbookError } from "../errors.ts";

export const COURSE_FILE = "labbook.yaml";

export interface LatePolicy {
  /** A fraction of the score taken per day late, e.g. 0.1. */
  perDay: number;
  /** The most ever taken, as a fraction; 1 when unset. */
  cap: number;
}

export interface LabSettings {
  due?: Date;
  late?: LatePolicy;
}

export interface CourseFile {
  path: string;
  labs: Record<string, LabSettings>;
  /** Absolute paths, resolved against the course file's folder. */
  extensions?: string;
  submitted?: string;
  /** Keeps students' variants unpredictable to each other; never handed out. */
  secret?: string;
}

/** "10%" or 0.1 -> 0.1. */
function fraction(value: unknown, where: string): number {
  const n = typeof value === "string" && value.trim().endsWith("%") ? Number(value.trim().slice(0, -1)) / 100 : Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new LabbookError(`${where} must be a percentage ("10%") or a fraction between 0 and 1, not ${JSON.stringify(value)}`);
  return n;
}

function date(value: unknown, where: string): Date {
  const text = value instanceof Date ? value.toISOString() : String(value);
  const parsed = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) || !/T/.test(text) ? text : `${text}Z`);
  if (Number.isNaN(parsed.getTime())) throw new LabbookError(`${where} must be a date and time (ISO 8601, e.g. 2026-12-10T23:59:00+01:00), not ${JSON.stringify(value)}`);
  return parsed;
}

export function readCourseFile(path: string): CourseFile {
  let data: unknown;
  try {
    data = parse(readFileSync(path, "utf8")) ?? {};
  } catch (error) {
    throw new LabbookError(`${path}: not a course file: ${(error as Error).message}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new LabbookError(`${path}: a course file is a YAML mapping (labs:, extensions:, submitted:)`);
  const raw = data as { labs?: unknown; extensions?: unknown; submitted?: unknown; secret?: unknown };
  const known = ["labs", "extensions", "submitted", "secret"];
  const unknown = Object.keys(raw).filter((k) => !known.includes(k));
  if (unknown.length) throw new LabbookError(`${path}: unknown key${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} (a course file has ${known.join(", ")})`);
  const labs: Record<string, LabSettings> = {};
  for (const [id, settings] of Object.entries((raw.labs ?? {}) as Record<string, unknown>)) {
    const where = `${path}: labs.${id}`;
    const s = (settings ?? {}) as { due?: unknown; late?: { "per-day"?: unknown; cap?: unknown } };
    labs[id] = {
      ...(s.due === undefined ? {} : { due: date(s.due, `${where}.due`) }),
      ...(s.late === undefined ? {} : { late: { perDay: fraction(s.late["per-day"] ?? 0, `${where}.late.per-day`), cap: s.late.cap === undefined ? 1 : fraction(s.late.cap, `${where}.late.cap`) } }),
    };
  }
  const near = (file: unknown) => (typeof file === "string" ? resolve(dirname(path), file) : undefined);
  const extensions = near(raw.extensions);
  const submitted = near(raw.submitted);
  if (raw.secret !== undefined && (typeof raw.secret !== "string" || raw.secret.length < 8)) throw new LabbookError(`${path}: secret must be a string of at least 8 characters`);
  return { path, labs, ...(extensions ? { extensions } : {}), ...(submitted ? { submitted } : {}), ...(typeof raw.secret === "string" ? { secret: raw.secret } : {}) };
}

/** The course file that governs a lab: --course, else labbook.yaml in the lab's folder or one above it. */
export function findCourseFile(labPath: string, named?: string): CourseFile | undefined {
  if (named) {
    if (!existsSync(named)) throw new LabbookError(`--course ${named}: no such file`);
    return readCourseFile(resolve(named));
  }
  for (let dir = dirname(resolve(labPath)); ; dir = dirname(dir)) {
    const candidate = join(dir, COURSE_FILE);
    if (existsSync(candidate)) return readCourseFile(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}
