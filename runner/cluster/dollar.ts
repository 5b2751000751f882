import type { Readable } from "node:stream";
import type { CommandResult } from "./result.ts";
import { buildCommand, type TemplateValue } from "./template.ts";

export interface RunOptions {
  /** Resolve with the result instead of throwing when the command fails. */
  nothrow?: boolean;
  /** Kill the command (and its process group) after this many milliseconds. */
  timeout?: number;
  /** Written to the command's stdin; a stream (e.g. `createReadStream(file)`) is piped, not read into memory. */
  input?: string | Buffer | Readable;
  /** Live output, e.g. for a CLI that streams. */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

/**
 * zx's entry point: a tagged template, or called with options to get one that uses them:
 *   await node.$`ip route add ${cidr} via ${gw}`
 *   await node.$({ nothrow: true, timeout: 2000 })`ping -c1 ${ip}`
 */
export interface Dollar<R> {
  (pieces: TemplateStringsArray, ...values: TemplateValue[]): Promise<R>;
  (options: RunOptions): Dollar<R>;
}

export function makeDollar<R = CommandResult>(run: (command: string, options: RunOptions) => Promise<R>, defaults: RunOptions = {}): Dollar<R> {
  function dollar(first: TemplateStringsArray | RunOptions, ...values: TemplateValue[]): Promise<R> | Dollar<R> {
    if (isTemplate(first)) return run(buildCommand(first, values), defaults);
    return makeDollar(run, { ...defaults, ...first });
  }
  return dollar as Dollar<R>;
}

function isTemplate(value: unknown): value is TemplateStringsArray {
  return Array.isArray(value) && "raw" in value;
}
