// Errors a user can act on. The CLI prints their message alone (no stack trace)
// and exits with `exitCode`; anything else is a bug and keeps its stack.

export class LabbookError extends Error {
  exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The command line was wrong: exit code 2, like most Unix tools. */
export class UsageError extends LabbookError {
  override exitCode = 2;
}

/** No cluster of that name: callers that can start one (the SDK in Jupyter, labbook notebook) do. */
export class ClusterNotFoundError extends LabbookError {}
