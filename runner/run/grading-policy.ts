// Grading's order: the hidden checks run after every other cell, in a fresh process on the same cluster
// (no tslab: see cell-runner.ts), preceded by the grader-setup cells, so nothing the student's cells did
// to their kernel (a redefined check(), patched helpers) can reach them. They read the grader notes as
// the lab's steps left them before the student's first cell (sealed-notes.ts). Teardown cells run last, as in
// a plain run (policy.ts teardownLast): after the hidden checks, in their process, so they see what the
// grader-setup cells define.
import { rmSync } from "node:fs";
import { GRADER_NOTES_VARIABLE } from "../sdk/grader-notes.ts";
import { CellRunner } from "./cell-runner.ts";
import { teardownLast, type RunnableCell, type RunPolicy } from "./policy.ts";
import { sealGraderNotes } from "./sealed-notes.ts";

const isolated = (cell: RunnableCell) => cell.meta.role === "hidden-check" || cell.meta.role === "grader-setup";

export const gradingPolicy: RunPolicy = {
  start(cells, context) {
    // The student's kernel goes first and for good; the hidden checks get one of their own.
    const order = teardownLast([...cells.filter((c) => !isolated(c)), ...cells.filter(isolated)]);
    const firstIsolated = order.find(isolated);
    let sealedNotes: string | undefined;
    return {
      order,
      skipReason: () => undefined,
      sessionFor(cell) {
        if (sealedNotes === undefined && (cell.meta.role === "exercise" || cell === firstIsolated)) sealedNotes = sealGraderNotes(context.graderNotes);
        if (cell !== firstIsolated) return undefined;
        return new CellRunner({ cwd: context.session.cwd, env: { ...context.session.env, [GRADER_NOTES_VARIABLE]: sealedNotes! } });
      },
      close() {
        if (sealedNotes) rmSync(sealedNotes, { recursive: true, force: true });
      },
    };
  },
};
