// A named expectation with wait/retry (netlab validate's shape): it passes as soon as
// `probe` returns without throwing, or fails with the last thing observed at the deadline.
import type { CheckOutcome } from "../notebook/results.ts";
import { publishCheck } from "./display.ts";
import { scaled } from "./time-scale.ts";

export interface CheckOptions {
  /** Keep retrying for this many milliseconds (default 0: one attempt); stretched on slower nodes (time-scale.ts). */
  within?: number;
  /** Pause between attempts (default 250 ms). */
  every?: number;
  /** Points this check is worth when graded. */
  points?: number;
}

/**
 * `probe` passes by returning (a string return is the pass message) and fails by throwing
 * (the error's message says what was observed) or by returning false. The outcome is
 * published as display data, not returned: tslab would print a returned value as noise.
 */
export async function check(name: string, probe: () => unknown, options: CheckOptions = {}): Promise<void> {
  const started = Date.now();
  const deadline = started + scaled(options.within ?? 0);
  let attempts = 0;
  let message = "";
  let passed = false;
  for (;;) {
    attempts++;
    try {
      const value = await probe();
      if (value === false) throw new Error("the probe returned false");
      passed = true;
      message = typeof value === "string" ? value : "ok";
      break;
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() + (options.every ?? 250) > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, options.every ?? 250));
  }
  if (!passed && attempts > 1) message = `${message} (after ${attempts} attempts in ${Date.now() - started} ms)`;
  const outcome: CheckOutcome = { name, passed, message, attempts, durationMs: Date.now() - started, ...(options.points === undefined ? {} : { points: options.points }) };
  publishCheck(outcome);
}
