// The instructor's report, grades/report.html: one page, no scripts, that opens anywhere. The final scores'
// distribution as a chart; every hidden check with its failure rate, the points it cost the class, its hint and
// the commonest failure messages grouped (numbers and addresses folded, so one misconception is one line);
// time per submission; what looked suspicious. Sorted by points lost: what cost the class most comes first.
import { escapeAttribute, escapeMarkup } from "../report/escape.ts";
import { PAGE_STYLE } from "../report/html-style.ts";
import { formatDuration, stripAnsi } from "../report/text.ts";
import type { Gradebook } from "./gradebook.ts";
import type { StudentGrade } from "./score.ts";

export const CLASS_REPORT = "report.html";

export interface CheckStats {
  exercise: string;
  name: string;
  hint: string;
  points: number;
  failed: number;
  graded: number;
  pointsLost: number;
  /** Failure messages, folded, with how many students each. */
  messages: Array<{ text: string; count: number }>;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** One misconception, one line: addresses and numbers folded (the observed values differ per student). */
export function foldMessage(detail: string): string {
  return stripAnsi(detail)
    .split("\n")[0]!
    .replace(/\b\d{1,3}(\.\d{1,3}){3}(\/\d+)?\b/g, "<address>")
    .replace(/\b\d+(\.\d+)?\s*(ms|s|MB|KB|%)\b/g, "<n> $2")
    .replace(/\b\d+(\.\d+)?\b/g, "<n>")
    .trim()
    .slice(0, 200);
}

export function checkStats(students: StudentGrade[]): CheckStats[] {
  const graded = students.filter((s) => s.status === "graded");
  const byKey = new Map<string, CheckStats & { texts: Map<string, number> }>();
  for (const student of graded) {
    for (const exercise of student.exercises) {
      for (const check of exercise.checks) {
        const key = `${exercise.id}\u0000${check.name}`;
        const stats = byKey.get(key) ?? { exercise: exercise.id, name: check.name, hint: check.hint, points: check.points, failed: 0, graded: 0, pointsLost: 0, messages: [], texts: new Map() };
        stats.graded++;
        if (!check.passed) {
          stats.failed++;
          stats.pointsLost += check.points;
          const text = foldMessage(check.detail);
          stats.texts.set(text, (stats.texts.get(text) ?? 0) + 1);
        }
        byKey.set(key, stats);
      }
    }
  }
  return [...byKey.values()]
    .map(({ texts, ...stats }) => ({ ...stats, pointsLost: round2(stats.pointsLost), messages: [...texts].map(([text, count]) => ({ text, count })).sort((a, b) => b.count - a.count).slice(0, 3) }))
    .sort((a, b) => b.pointsLost - a.pointsLost || b.failed - a.failed);
}

/** A histogram of the final totals as an SVG bar chart, one bar per bin of the score range. */
function histogram(totals: number[], max: number): string {
  const bins = Math.max(1, Math.min(10, Math.ceil(max) * 2 || 1));
  const width = max / bins || 1;
  const counts = Array.from({ length: bins }, () => 0);
  for (const t of totals) counts[Math.min(bins - 1, Math.floor(t / width))]!++;
  const tallest = Math.max(1, ...counts);
  const [w, h, pad] = [640, 220, 30];
  const barWidth = (w - 2 * pad) / bins;
  const bars = counts.map((count, i) => {
    const barHeight = ((h - 2 * pad) * count) / tallest;
    const x = pad + i * barWidth;
    const label = `${round2(i * width)}–${round2((i + 1) * width)}: ${count} student${count === 1 ? "" : "s"}`;
    return `<rect class="bar" x="${x + 2}" y="${h - pad - barHeight}" width="${barWidth - 4}" height="${barHeight}" data-count="${count}"><title>${escapeMarkup(label)}</title></rect>` +
      `<text x="${x}" y="${h - pad + 14}" text-anchor="middle">${round2(i * width)}</text>` +
      (count ? `<text x="${x + barWidth / 2}" y="${h - pad - barHeight - 4}" text-anchor="middle">${count}</text>` : "");
  });
  return `<svg class="histogram" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="distribution of final scores">` +
    `<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#59636e"/>${bars.join("")}` +
    `<text x="${w - pad}" y="${h - pad + 14}" text-anchor="middle">${max}</text><text x="${w / 2}" y="${h - 2}" text-anchor="middle">final score (bins include their lower bound; the last one includes ${max})</text></svg>`;
}

const percent = (n: number, of: number) => (of ? `${Math.round((100 * n) / of)}%` : "–");

export function classReportHtml(book: Gradebook, views: StudentGrade[]): string {
  const max = book.exercises.reduce((sum, e) => sum + e.points, 0);
  const scored = views.filter((s) => s.status !== "error");
  const totals = scored.map((s) => s.total).sort((a, b) => a - b);
  const mean = totals.length ? round2(totals.reduce((a, b) => a + b, 0) / totals.length) : 0;
  const median = totals.length ? totals[Math.floor(totals.length / 2)]! : 0;
  const count = (status: string) => views.filter((s) => s.status === status).length;
  const stats = checkStats(views);
  const durations = views.filter((s) => s.status === "graded").map((s) => ({ student: s.student, ms: s.durationMs })).sort((a, b) => b.ms - a.ms);
  const at = (q: number) => (durations.length ? durations[Math.floor((1 - q) * (durations.length - 1))]!.ms : 0);
  const suspicious = views.filter((s) => s.suspicious?.length);
  const e = escapeMarkup;
  const checkRows = stats.map((c) =>
    `<tr class="check-row"><td><code>${e(c.exercise)}</code></td><td class="check-name">${e(c.name)}</td><td>${percent(c.failed, c.graded)} <small>(${c.failed} of ${c.graded})</small></td>` +
      `<td class="points-lost">${c.pointsLost}</td><td>${e(c.hint)}</td><td><ul>${c.messages.map((m) => `<li><code>${e(m.text)}</code> <small>× ${m.count}</small></li>`).join("")}</ul></td></tr>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(book.title ?? book.lab)}: class report</title>
<style>${PAGE_STYLE}
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; font-size: 14px; }
td ul { margin: 0; padding-left: 1rem; }
.histogram .bar { fill: #0969da; }
.histogram text { font-size: 11px; fill: #59636e; }
</style>
</head>
<body>
<header>
<h1>${e(book.title ?? book.lab)}: class report</h1>
<p class="summary" id="summary">${views.length} submissions: ${count("graded")} graded, ${count("rejected")} rejected, ${count("error")} not graded (errors). Final scores: mean ${mean}, median ${median} of ${max}. Graded ${e(book.gradedAt)}.</p>
</header>
<main>
<h2>Scores</h2>
${histogram(totals, max)}
<h2>Hidden checks, by points lost</h2>
<p>What cost the class most comes first. Messages are grouped with their numbers and addresses folded.</p>
<table id="checks"><thead><tr><th>exercise</th><th>check</th><th>failed</th><th>points lost</th><th>hint</th><th>commonest failures</th></tr></thead>
<tbody>${checkRows.join("\n") || '<tr><td colspan="6">no graded submission</td></tr>'}</tbody></table>
<h2>Time per submission</h2>
<p id="timing">median ${formatDuration(at(0.5))}, 90th percentile ${formatDuration(at(0.9))}, longest ${formatDuration(durations[0]?.ms ?? 0)}${durations.length ? ` (${e(durations.slice(0, 5).map((d) => `${d.student} ${formatDuration(d.ms)}`).join(", "))})` : ""}.</p>
<h2>Suspicious</h2>
${suspicious.length ? `<table id="suspicious"><thead><tr><th>student</th><th>what</th></tr></thead><tbody>${suspicious.map((s) => `<tr><td><a href="students/${escapeAttribute(s.student)}/feedback.html">${e(s.student)}</a></td><td><ul>${s.suspicious.map((x) => `<li><code>${e(x.kind)}</code>: ${e(x.detail)}</li>`).join("")}</ul></td></tr>`).join("")}</tbody></table>` : '<p id="suspicious">Nothing looked suspicious.</p>'}
</main>
</body>
</html>
`;
}
