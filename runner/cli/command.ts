export interface CliCommand {
  /** One line for `labbook help`. */
  summary: string;
  usage: string;
  /** Resolves with the process exit code. */
  run(argv: string[]): Promise<number>;
}
