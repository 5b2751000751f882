import type { RunSummary } from "../notebook/results.ts";
import { writeReportFile } from "./files.ts";
import type { Reporter } from "./types.ts";

/** results.json: the RunSummary as is, for tools that want every detail. */
export function jsonReporter(outDir: string): Reporter {
  return {
    async onRunEnd(summary: RunSummary) {
      return [await writeReportFile(outDir, "results.json", `${JSON.stringify(summary, null, 2)}\n`)];
    },
  };
}
