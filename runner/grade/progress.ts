// The console while a class is graded: one line per submission as it finishes (N of M, its score,
// the running mean), and a summary. Whole lines only, so CI logs read as well as terminals.
import { appendFileSync } from "node:fs";
import { formatDuration, oneLine } from "../report/text.ts";
import type { StudentGrade } from "./score.ts";

export interface GradeProgress {
  start(info: { lab: string; submissions: number; jobs: number; references?: number; shard?: string; kept?: number }): void;
  referenceDone(info: { durationMs: number; checks: number; variant?: string }): void;
  graded(grade: StudentGrade): void;
  finish(info: { durationMs: number }): void;
}

export class ConsoleGradeProgress implements GradeProgress {
  private total = 0;
  private readonly done: StudentGrade[] = [];
  private startedAt = Date.now();
  private lab = "";

  private readonly stream: NodeJS.WritableStream;

  constructor(stream: NodeJS.WritableStream = process.stdout) {
    this.stream = stream;
  }

  private line(text: string): void {
    this.stream.write(`${text}\n`);
  }

  start(info: { lab: string; submissions: number; jobs: number; references?: number; shard?: string; kept?: number }): void {
    this.total = info.submissions;
    this.startedAt = Date.now();
    this.lab = info.lab;
    const shard = info.shard ? `, shard ${info.shard}` : "";
    const kept = info.kept ? `; ${info.kept} grade${info.kept === 1 ? "" : "s"} kept from the gradebook (unchanged)` : "";
    if (info.submissions === 0) {
      this.line(`nothing to grade again for ${info.lab}${kept}`);
      return;
    }
    this.line(`grading ${info.submissions} submission${info.submissions === 1 ? "" : "s"} of ${info.lab} (--jobs ${info.jobs}${shard}), each on a fresh cluster, plus ${(info.references ?? 1) === 1 ? "one reference run of the solution" : `${info.references} reference runs of the solution, one per variant in use`}${kept}`);
  }

  referenceDone(info: { durationMs: number; checks: number; variant?: string }): void {
    this.line(`reference${info.variant ? ` (variant ${info.variant})` : ""}: the solution passes all ${info.checks} hidden checks (${formatDuration(info.durationMs)})`);
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
    this.line(`[${String(this.done.length).padStart(width)}/${this.total}] ${grade.student.padEnd(20)} ${what}  (mean ${mean.toFixed(2)}, ${formatDuration(grade.durationMs)}${this.eta()})`);
  }

  /** The rate so far and the time left at that rate, once a few have finished (the first wait on the reference). */
  private eta(): string {
    const elapsed = Date.now() - this.startedAt;
    const left = this.total - this.done.length;
    if (this.done.length < 2 || elapsed <= 0) return "";
    const perMinute = this.done.length / (elapsed / 60_000);
    return `; ${perMinute.toFixed(1)}/min${left > 0 ? `, ETA ${formatDuration((left / perMinute) * 60_000)}` : ""}`;
  }

  finish(info: { durationMs: number }): void {
    const count = (status: string) => this.done.filter((g) => g.status === status).length;
    const rate = this.done.length / (info.durationMs / 60_000);
    const scored = this.done.filter((g) => g.status !== "error");
    const mean = scored.length ? scored.reduce((s, g) => s + g.total, 0) / scored.length : 0;
    const max = this.done[0]?.max ?? 0;
    const summary =
      `graded ${this.done.length} in ${formatDuration(info.durationMs)} (${rate.toFixed(1)} per minute): mean ${mean.toFixed(2)} / ${max}; ` +
      `${count("rejected")} rejected, ${count("error")} grading error${count("error") === 1 ? "" : "s"}`;
    this.line(summary);
    const flagged = this.done.filter((g) => g.suspicious?.length).length;
    // CI's own summary: GitHub Actions shows the step summary's Markdown on the run's page.
    const stepSummary = process.env.GITHUB_STEP_SUMMARY;
    if (stepSummary) {
      const text = [`### labbook grade: ${this.lab}`, "", `${summary}${flagged ? `; ${flagged} flagged suspicious (gradebook.csv)` : ""}`, ""].join("\n");
      try {
        appendFileSync(stepSummary, `${text}\n`);
      } catch {
        // A summary that cannot be written is no reason to fail the batch.
      }
    }
  }
}

/** For tests and benchmarks that read the gradebook instead. */
export const silentProgress: GradeProgress = { start() {}, referenceDone() {}, graded() {}, finish() {} };
