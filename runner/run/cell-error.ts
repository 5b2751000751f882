// The typed face of runner/kernel/cell-error.cjs, which the kernel launcher shares.
import { createRequire } from "node:module";
import type { ErrorOutput } from "../notebook/types.ts";

const shared = createRequire(import.meta.url)("../kernel/cell-error.cjs") as { errorFromStderr(stderr: string): ErrorOutput };

/** tslab's stderr text of a failed cell, as the error output Jupyter and reports expect. */
export function errorFromStderr(stderr: string): ErrorOutput {
  return shared.errorFromStderr(stderr);
}
