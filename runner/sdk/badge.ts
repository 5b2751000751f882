import type { CheckOutcome } from "../notebook/results.ts";

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A pass/fail badge readable in Jupyter's output area; inline styles, no scripts. */
export function checkBadgeHtml(outcome: CheckOutcome): string {
  const [color, background, mark] = outcome.passed ? ["#1a7f37", "#dafbe1", "✔"] : ["#cf222e", "#ffebe9", "✘"];
  const points = outcome.points === undefined ? "" : ` <span style="opacity:.7">(${outcome.points} pt)</span>`;
  return (
    `<div class="labbook-check labbook-check-${outcome.passed ? "pass" : "fail"}" data-passed="${outcome.passed}" ` +
    `style="border-left:4px solid ${color};background:${background};padding:4px 8px;margin:2px 0;font-family:sans-serif">` +
    `<strong style="color:${color}">${mark} ${escapeHtml(outcome.name)}</strong>${points}` +
    `<div style="white-space:pre-wrap;font-family:monospace;font-size:90%">${escapeHtml(outcome.message)}</div></div>`
  );
}
