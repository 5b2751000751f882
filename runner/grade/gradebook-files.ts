// Writes a gradebook's files, with its layers (final-scores.ts) computed afresh: gradebook.json (raw scores, each
// with its final score beside it), gradebook.csv (the final view), junit.xml, and per student feedback.md and
// feedback.html, and the instructor's class report (class-report.ts). `labbook grade`, `gradebook merge` and `gradebook export` all write through here.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLASS_REPORT, classReportHtml } from "./class-report.ts";
import { feedbackHtml, feedbackMarkdown } from "./feedback.ts";
import { withFinalScores, type Layers } from "./final-scores.ts";
import { GRADEBOOK_CSV, GRADEBOOK_JSON, gradebookCsv, type Gradebook } from "./gradebook.ts";
import { gradebookJunit } from "./gradebook-junit.ts";
import type { Override } from "./overrides.ts";

export function writeGradebookFiles(outDir: string, book: Gradebook, layers: Layers): { written: string[]; book: Gradebook; unmatched: Override[] } {
  const written: string[] = [];
  const write = (path: string, text: string) => {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
    written.push(path);
  };
  const { book: recorded, views, unmatched } = withFinalScores(book, layers);
  const title = book.title ?? book.lab;
  write(join(outDir, GRADEBOOK_JSON), `${JSON.stringify(recorded, null, 1)}\n`);
  write(join(outDir, GRADEBOOK_CSV), gradebookCsv({ ...recorded, students: views }));
  write(join(outDir, "junit.xml"), gradebookJunit(recorded));
  write(join(outDir, CLASS_REPORT), classReportHtml(recorded, views));
  for (const grade of views) {
    const markdown = feedbackMarkdown(`${title}: feedback`, grade);
    write(join(outDir, "students", grade.student, "feedback.md"), markdown);
    write(join(outDir, "students", grade.student, "feedback.html"), feedbackHtml(`${title}: feedback for ${grade.student}`, markdown));
  }
  return { written, book: recorded, unmatched };
}

/** What to tell the instructor about overrides that changed nothing: a typo in a student id or a target. */
export function unmatchedWarnings(unmatched: Override[]): string[] {
  return unmatched.map((o) => `${o.source}: override for student "${o.student}", target "${o.target}" matches no ${o.student ? "exercise or hidden check of that student" : "student"}; it changed nothing`);
}
