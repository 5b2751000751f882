import { LabbookError } from "../errors.ts";

/** What one command did on one node (execa's shape, plus the node). */
export class CommandResult {
  readonly node: string;
  readonly command: string;
  readonly stdout: string;
  readonly stderr: string;
  /** null when the command was killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly durationMs: number;
  readonly timedOut: boolean;

  constructor(node: string, command: string, stdout: string, stderr: string, exitCode: number | null, signal: string | null, durationMs: number, timedOut: boolean) {
    this.node = node;
    this.command = command;
    this.stdout = stdout;
    this.stderr = stderr;
    this.exitCode = exitCode;
    this.signal = signal;
    this.durationMs = durationMs;
    this.timedOut = timedOut;
  }

  get ok(): boolean {
    return this.exitCode === 0 && !this.timedOut;
  }

  /** stdout without its final newline: what `${await node.$`hostname`}` should interpolate. */
  toString(): string {
    return this.stdout.replace(/\r?\n$/, "");
  }

  /** stdout split into lines, without the empty last one. */
  lines(): string[] {
    const text = this.toString();
    return text === "" ? [] : text.split(/\r?\n/);
  }

  json<T = unknown>(): T {
    return JSON.parse(this.stdout) as T;
  }

  /**
   * One line in console.log and in a notebook, where tslab shows a cell's last value: a cell
   * ending in `await sh(...)` has printed the output already and should not dump it again.
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    const status = this.timedOut ? "timed out" : this.exitCode === null ? `killed by ${this.signal ?? "a signal"}` : `exit ${this.exitCode}`;
    return `[${this.node}: ${this.command.length > 60 ? `${this.command.slice(0, 57)}...` : this.command}: ${status}, ${this.lines().length} lines of output]`;
  }
}

const STDERR_TAIL_LINES = 10;

export class CommandError extends LabbookError {
  readonly result: CommandResult;

  constructor(result: CommandResult) {
    const how = result.timedOut
      ? `timed out after ${Math.round(result.durationMs)} ms`
      : result.exitCode === null
        ? `was killed by ${result.signal ?? "a signal"}`
        : `failed with exit code ${result.exitCode}`;
    const tail = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-STDERR_TAIL_LINES);
    const detail = tail[0] ? `\n${tail.map((l) => `  | ${l}`).join("\n")}` : "";
    super(`${result.node}: command ${how}: ${result.command}${detail}`);
    this.result = result;
  }
}
