import { UsageError } from "../errors.ts";
import { ConsoleReporter } from "./console.ts";
import { htmlReporter } from "./html.ts";
import { jsonReporter } from "./json.ts";
import { junitReporter } from "./junit.ts";
import { markdownReporter } from "./md.ts";
import type { Reporter, ReporterOptions } from "./types.ts";

const factories: Record<string, (options: ReporterOptions) => Reporter> = {
  console: (options) => new ConsoleReporter(options.stream ?? process.stdout),
  junit: (options) => junitReporter(options.outDir),
  json: (options) => jsonReporter(options.outDir),
  html: (options) => htmlReporter(options.outDir),
  md: (options) => markdownReporter(options.outDir),
};

export function reporterNames(): string[] {
  return Object.keys(factories);
}

/** Every name is checked before any reporter is made, so a typo fails before the run starts. */
export function createReporters(names: string[], options: ReporterOptions): Reporter[] {
  const unknown = names.filter((name) => !Object.hasOwn(factories, name));
  if (unknown.length > 0) {
    const list = unknown.map((name) => `"${name}"`).join(", ");
    throw new UsageError(`unknown reporter${unknown.length > 1 ? "s" : ""} ${list} (available: ${reporterNames().join(", ")})`);
  }
  return [...new Set(names)].map((name) => factories[name]!(options));
}

/**
 * One reporter that forwards every event to all of them. At the end each one writes its
 * files even if another failed; the first failure is rethrown afterwards.
 */
export function fanOut(reporters: readonly Reporter[]): Reporter {
  return {
    onRunStart: (info) => reporters.forEach((r) => r.onRunStart?.(info)),
    onNotebookStart: (info) => reporters.forEach((r) => r.onNotebookStart?.(info)),
    onCellStart: (cell) => reporters.forEach((r) => r.onCellStart?.(cell)),
    onCheck: (check) => reporters.forEach((r) => r.onCheck?.(check)),
    onCellEnd: (result) => reporters.forEach((r) => r.onCellEnd?.(result)),
    onNotebookEnd: (result) => reporters.forEach((r) => r.onNotebookEnd?.(result)),
    async onRunEnd(summary) {
      const written: string[] = [];
      const errors: unknown[] = [];
      for (const reporter of reporters) {
        try {
          written.push(...((await reporter.onRunEnd?.(summary)) ?? []));
        } catch (error) {
          errors.push(error);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, `${errors.length} reporters failed to write their reports`);
      return written;
    },
  };
}
