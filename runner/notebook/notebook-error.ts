import { LabbookError } from "../errors.ts";

/** A notebook that cannot be read or run as written: the user's input, so exit 2. */
export class NotebookError extends LabbookError {
  override exitCode = 2;
}
