// Which of a notebook's cells run, in which order, and in which process. `labbook run` runs them as
// Jupyter would (plainPolicy); grading moves the hidden checks out of the student's reach (grading-policy.ts).
import { GRADING_ONLY, type LabbookCellMetadata } from "../notebook/roles.ts";
import type { Cell } from "../notebook/types.ts";
import type { CellSession } from "./cell-session.ts";

/** A cell the runner executes (see isRunnable), with its place in the notebook and its metadata. */
export interface RunnableCell {
  cell: Cell;
  index: number;
  meta: LabbookCellMetadata;
}

/** What a policy may use of the run it decides for. */
export interface RunContext {
  /** Where the lab's steps keep notes for the hidden checks (sdk/grader-notes.ts). */
  graderNotes: string;
  /** The kernel's working directory and environment: another process that runs cells needs the same. */
  session: { cwd: string; env: Record<string, string> };
}

/** A policy's decisions for one run. */
export interface PolicyRun {
  /** The runnable cells, in the order they run; results are reported in notebook order all the same. */
  order: RunnableCell[];
  /** Why the policy never runs this cell, if it does not. */
  skipReason(cell: RunnableCell): string | undefined;
  /** Before each cell, in order: a session that takes over from this cell on, if the cell needs another. */
  sessionFor(cell: RunnableCell): CellSession | undefined;
  /** Removes what the policy made for the run; called once the run's sessions have ended. */
  close(): void;
}

export interface RunPolicy {
  start(cells: RunnableCell[], context: RunContext): PolicyRun;
}

const isTeardown = (cell: RunnableCell) => cell.meta.role === "teardown";

/**
 * The one order of both modes: teardown cells run last, after every other cell and so after every hidden check,
 * wherever they stand in the notebook. Checks, hidden or not, judge the state the lab's and student's cells left,
 * never a state a teardown already undid.
 */
export function teardownLast(cells: RunnableCell[]): RunnableCell[] {
  return [...cells.filter((c) => !isTeardown(c)), ...cells.filter(isTeardown)];
}

/** Every cell in place, in the notebook's kernel, teardown last; grader-setup cells are for grading only. */
export const plainPolicy: RunPolicy = {
  start: (cells) => ({
    order: teardownLast(cells),
    skipReason: (cell) => (cell.meta.role === "grader-setup" ? GRADING_ONLY : undefined),
    sessionFor: () => undefined,
    close: () => {},
  }),
};
