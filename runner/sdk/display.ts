// Publishes a check as one display_data with three representations: labbook's exact JSON
// (what `labbook run` reads), an HTML badge (what Jupyter shows) and plain text.
import { createRequire } from "node:module";
import { CHECK_MIME } from "../notebook/types.ts";
import type { CheckOutcome } from "../notebook/results.ts";
import { checkBadgeHtml } from "./badge.ts";

export type WriteDisplayData = (content: { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: Record<string, unknown> }, update: boolean) => void;

/** Where labbook's own cell runner (the hidden checks' process when grading) puts its display hook. */
export const DISPLAY_HOOK = Symbol.for("labbook.display");

/** The running cell's display_data: labbook's cell runner's, or tslab's inside a tslab kernel. */
export function tslabDisplay(): WriteDisplayData | undefined {
  const hook = (globalThis as Record<symbol, unknown>)[DISPLAY_HOOK];
  if (typeof hook === "function") return hook as WriteDisplayData;
  try {
    const jupyter = createRequire(import.meta.url)("tslab/dist/jupyter.js") as { lastWriteDisplayData: WriteDisplayData | null };
    return jupyter.lastWriteDisplayData ?? undefined;
  } catch {
    return undefined;
  }
}

export function checkText(outcome: CheckOutcome): string {
  return `${outcome.passed ? "PASS" : "FAIL"} ${outcome.name}: ${outcome.message}`;
}

/**
 * Rich output for the running cell, one representation per MIME type (e.g. "image/svg+xml", "text/html"):
 * Jupyter shows the richest it can, labbook's reports keep them all. Outside a kernel, its "text/plain" is printed.
 */
export function display(data: Record<string, unknown>): void {
  const write = tslabDisplay();
  if (!write) {
    console.log(String(data["text/plain"] ?? ""));
    return;
  }
  write({ data, metadata: {}, transient: {} }, false);
}

export function publishCheck(outcome: CheckOutcome): void {
  display({ [CHECK_MIME]: outcome, "text/html": checkBadgeHtml(outcome), "text/plain": checkText(outcome) });
}
