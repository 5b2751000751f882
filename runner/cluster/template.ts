// zx's rule for tagged templates: every interpolated value is one shell word,
// quoted with zx's own quote(); arrays become several words.
import { quote } from "zx/core";
import { CommandResult } from "./result.ts";

export type TemplateValue = string | number | boolean | CommandResult | ReadonlyArray<string | number | CommandResult>;

export function buildCommand(pieces: TemplateStringsArray, values: readonly TemplateValue[]): string {
  let command = pieces[0] ?? "";
  values.forEach((value, index) => {
    command += substitute(value) + (pieces[index + 1] ?? "");
  });
  return command;
}

function substitute(value: TemplateValue): string {
  if (Array.isArray(value)) return value.map((item) => quoteWord(item)).join(" ");
  return quoteWord(value as string | number | boolean | CommandResult);
}

function quoteWord(value: string | number | boolean | CommandResult): string {
  if (value === undefined || value === null) throw new TypeError(`cannot interpolate ${String(value)} into a command`);
  return quote(String(value));
}
