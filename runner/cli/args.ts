import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../errors.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** node:util parseArgs, with its errors turned into usage errors that name the command. */
export function parseCommandArgs<T extends Options>(command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`labbook ${command}: ${(error as Error).message.split("\n")[0]}\nrun "labbook help" for usage`);
  }
}

export function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(value)) throw new UsageError(`${flag} must be a positive whole number, got "${value}"`);
  return Number(value);
}

/** Splits `exec node1 -- cmd args` at the first "--". */
export function splitAtDoubleDash(argv: string[]): [string[], string[] | undefined] {
  const index = argv.indexOf("--");
  return index < 0 ? [argv, undefined] : [argv.slice(0, index), argv.slice(index + 1)];
}

export const CLUSTER_OPTIONS = {
  name: { type: "string", short: "n" },
  backend: { type: "string", short: "b" },
} as const;
