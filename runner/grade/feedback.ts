// A student's feedback: the score per exercise, each hidden check by name with the instructor's hint
// (never its code or what it observed), the lab's visible checks with their messages, and what the
// grader did about the student's changes. Written as Markdown, and as HTML from the same text.
import { basename } from "node:path";
import { escapeMarkup } from "../report/escape.ts";
import { PAGE_STYLE } from "../report/html-style.ts";
import { renderMarkdown } from "../report/markdown-html.ts";
import { stripAnsi } from "../report/text.ts";
import type { StudentGrade } from "./score.ts";

/** Student-controlled or observed text inside inline code: no backticks, one line, bounded. */
function code(text: string): string {
  return `\`${stripAnsi(text).replace(/`/g, "'").replace(/\s+/g, " ").trim().slice(0, 300) || " "}\``;
}

function block(text: string): string[] {
  return ["```", stripAnsi(text).replace(/```/g, "'''").slice(0, 4000), "```"];
}

export function feedbackMarkdown(title: string, grade: StudentGrade): string {
  const lines = [`# ${title}`, "", `Student ${code(grade.student)}, file ${code(basename(grade.file))}`, ""];
  if (grade.status === "rejected") lines.push(`**Score: 0 / ${grade.max}.** The submission could not be graded: ${code(grade.reason ?? "")}`, "");
  else if (grade.status === "error") lines.push(`**Not graded yet.** Grading failed for a reason that is not yours: ${code(grade.reason ?? "")}. Your instructor will grade it again.`, "");
  else lines.push(`**Score: ${grade.total} / ${grade.max}**${grade.final && grade.final.raw !== grade.total ? ` (graded ${grade.final.raw}; see below)` : ""}`, "");
  for (const exercise of grade.exercises) {
    lines.push(`## Exercise ${code(exercise.id)}: ${exercise.earned} / ${exercise.max}`, "");
    if (!exercise.submitted && grade.status !== "rejected") lines.push("You did not submit this exercise.", "");
    const cell = grade.exerciseCells.find((c) => c.id === exercise.id);
    if (cell && cell.status !== "passed") lines.push(`Your cell ended **${cell.status}**:`, "", ...block(cell.error ?? cell.status), "");
    if (grade.status !== "graded") continue; // nothing ran: no check to report, no hint to give
    lines.push("Checks the grader ran on the cluster after your cells:", "");
    for (const check of exercise.checks) lines.push(check.passed ? `- ✔ ${code(check.name)} (${check.points} pt)` : `- ✘ ${code(check.name)} (0 of ${check.points} pt)`);
    lines.push("");
    // One hint per hidden cell that failed, in the instructor's words.
    const hints = [...new Set(exercise.checks.filter((c) => !c.passed).map((c) => c.hint))];
    for (const hint of hints) lines.push(`**Hint:** ${hint}`, "");
  }
  if (grade.visibleChecks.length) {
    lines.push("## The lab's own checks", "", "These are the checks you could run yourself; they are not scored.", "");
    for (const check of grade.visibleChecks) lines.push(`- ${check.passed ? "✔" : "✘"} ${code(check.name)}: ${code(check.message)}`);
    lines.push("");
  }
  const final = grade.final;
  if (final && (final.overrides.length || final.latePenalty > 0)) {
    lines.push("## Adjustments", "");
    for (const o of final.overrides) lines.push(`- Your instructor set ${o.kind} ${code(o.target)} to ${o.points} pt${o.comment ? `: ${o.comment}` : ""}`);
    if (final.late && final.latePenalty > 0) {
      const days = final.late.daysLate;
      lines.push(`- Handed in ${days} day${days === 1 ? "" : "s"} late (due ${final.late.dueAt}, handed in ${final.late.submittedAt}): ${final.latePenalty} pt taken (${Math.round(final.late.penaltyFraction * 100)}% of ${final.afterOverrides})`);
    }
    lines.push("");
  }
  if (grade.notes.length) {
    lines.push("## Notes from the grader", "");
    for (const note of grade.notes) lines.push(`- ${note}`);
    lines.push("");
  }
  return lines.join("\n");
}

export function feedbackHtml(title: string, markdown: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeMarkup(title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<main>
${renderMarkdown(markdown)}
</main>
</body>
</html>
`;
}
