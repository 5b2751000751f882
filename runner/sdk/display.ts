// Publishes a check as one display_data with three representations: labbook's exact JSON
// (what `labbook run` reads), an HTML badge (what Jupyter shows) and plain text.
import { createRequire } from "node:module";
import { CHECK_MIME } from "../notebook/types.ts";
import type { CheckOutcome } from "../run/results.ts";
import { checkBadgeHtml } from "./badge.ts";

export type WriteDisplayData = (content: { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: Record<string, unknown> }, update: boolean) => void;

/** tslab's hook for the running cell's display_data, when we run inside a tslab kernel. */
export function tslabDisplay(): WriteDisplayData | undefined {
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

export function publishCheck(outcome: CheckOutcome): void {
  const write = tslabDisplay();
  if (!write) {
    console.log(checkText(outcome));
    return;
  }
  write({ data: { [CHECK_MIME]: outcome, "text/html": checkBadgeHtml(outcome), "text/plain": checkText(outcome) }, metadata: {}, transient: {} }, false);
}
