// The console while a class is graded: one line per submission as it finishes (N of M, its score,
// the running mean), and a summary. Whole lines only, so CI logs read as well as terminals.
import { formatDuration, oneLine } from "../report/text.ts";
import type { StudentGrade } from "./score.ts";

export interface GradeProgress {
  start(info: { lab: string; submissions: number; jobs: number; shard?: string }): void;
  referenceDone(info: { durationMs: number; checks: number }): void;
  graded(grade: StudentGrade): void;
  finish(info: { durationMs: number }): void;
}

export class ConsoleGradeProgress implements GradeProgress {
  private total = 0;
  private readonly done: StudentGrade[] = [];

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {}

  private line(text: string): void {
    this.stream.write(`${text}\n`);
  }

  start(info: { lab: string; submissions: number; jobs: number; shard?: string }): void {
    this.total = info.submissions;
    const shard = info.shard ? `, shard ${info.shard}` : "";
    this.line(`grading ${info.submissions} submission${info.submissions === 1 ? "" : "s"} of ${info.lab} (--jobs ${info.jobs}${shard}), each on a fresh cluster, plus one reference run of the solution`);
  }

  referenceDone(info: { durationMs: number; checks: number }): void {
    this.line(`reference: the solution passes all ${info.checks} hidden checks (${formatDuration(info.durationMs)})`);
  }

  graded(grade: StudentGrade): void {
    this.done.push(grade);
    const scored = this.done.filter((g) => g.status !== "error");
    const mean = scored.length ? scored.reduce((s, g) => s + g.total, 0) / scored.length : 0;
    const width = String(this.total).length;
    const what =
      grade.status === "graded"
        ? `${grade.total} / ${grade.max}`
        : grade.status === "rejected"
          ? `0 / ${grade.max}  rejected: ${oneLine(grade.reason ?? "", 80)}`
          : `ERROR (not scored): ${oneLine(grade.reason ?? "", 80)}`;
    this.line(`[${String(this.done.length).padStart(width)}/${this.total}] ${grade.student.padEnd(20)} ${what}  (mean ${mean.toFixed(2)}, ${formatDuration(grade.durationMs)})`);
  }

  finish(info: { durationMs: number }): void {
    const count = (status: string) => this.done.filter((g) => g.status === status).length;
    const rate = this.done.length / (info.durationMs / 60_000);
    const scored = this.done.filter((g) => g.status !== "error");
    const mean = scored.length ? scored.reduce((s, g) => s + g.total, 0) / scored.length : 0;
    const max = this.done[0]?.max ?? 0;
    this.line(
      `graded ${this.done.length} in ${formatDuration(info.durationMs)} (${rate.toFixed(1)} per minute): mean ${mean.toFixed(2)} / ${max}; ` +
        `${count("rejected")} rejected, ${count("error")} grading error${count("error") === 1 ? "" : "s"}`,
    );
  }
}

/** For tests and benchmarks that read the gradebook instead. */
export const silentProgress: GradeProgress = { start() {}, referenceDone() {}, graded() {}, finish() {} };
