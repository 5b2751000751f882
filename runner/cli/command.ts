export interface CliCommand {
  usage: string;
  /** Resolves with the process exit code. */
  run(argv: string[]): Promise<number>;
}
