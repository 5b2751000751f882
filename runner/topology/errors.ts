// Its own file, without the YAML parser and the schema validator: modules that only report a topology's problem
// (kubernetes/versions.ts, which every kernel's SDK loads) do not pull in yaml and ajv (135 modules) with it.
import { LabbookError } from "../errors.ts";
import type { TopologyProblem } from "./validate.ts";

export class TopologyError extends LabbookError {
  // Bad input, like a bad notebook or a bad option.
  override exitCode = 2;
  readonly source: string;
  readonly problems: Array<TopologyProblem & { line?: number }>;

  constructor(source: string, problems: Array<TopologyProblem & { line?: number }>) {
    super(
      `invalid topology ${source}:\n` +
        problems.map((p) => `  ${source}:${p.line ?? "?"}: ${p.path || "(top level)"}: ${p.message}`).join("\n"),
    );
    this.source = source;
    this.problems = problems;
  }
}
