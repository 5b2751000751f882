// One cell through a session: its outputs into the cell, as Jupyter would save them, and its result
// from how the execution ended (a timeout, a death and an abort each say so in an error output too).
import type { CellResult, CheckOutcome } from "../notebook/results.ts";
import { sourceText, type CodeCell, type ErrorOutput } from "../notebook/types.ts";
import { errorFromStderr } from "./cell-error.ts";
import type { CellSession } from "./cell-session.ts";
import { OutputCollector } from "./outputs.ts";

export type CellBase = Omit<CellResult, "status" | "durationMs">;

export async function runCell(cell: CodeCell, base: CellBase, timeoutS: number, session: CellSession, onCheck: (check: CheckOutcome) => void): Promise<CellResult> {
  const started = Date.now();
  const collector = new OutputCollector(onCheck);
  const execution = await session.execute(sourceText(cell.source), timeoutS * 1000, (message) => collector.add(message));
  cell.outputs = collector.outputs;
  const durationMs = Date.now() - started;
  const checks = collector.checks;
  if (execution.kind === "timed-out") {
    const message = `the cell ran longer than its ${timeoutS} s timeout and was ${execution.restarted ? "stopped by restarting the kernel (its state is lost)" : "interrupted"}`;
    cell.outputs.push({ output_type: "error", ename: "TimeoutError", evalue: message, traceback: [message] });
    return { ...base, checks, status: "timed-out", durationMs, error: { name: "TimeoutError", message, traceback: [message] } };
  }
  if (execution.kind === "died") {
    const message = execution.error.message;
    cell.outputs.push({ output_type: "error", ename: "KernelDied", evalue: message, traceback: [message] });
    return { ...base, checks, status: "kernel-died", durationMs, error: { name: "KernelDied", message, traceback: [message] } };
  }
  const executionCount = execution.reply.execution_count;
  if (execution.reply.status === "abort") {
    const message = "the kernel aborted the cell without running it, three times";
    cell.outputs.push({ output_type: "error", ename: "Aborted", evalue: message, traceback: [message] });
    return { ...base, checks, status: "failed", durationMs, error: { name: "Aborted", message, traceback: [message] } };
  }
  if (execution.reply.status === "error") {
    // The launcher sends an `error` message; a kernel without it leaves only stderr to read.
    const sent = collector.outputs.find((o): o is ErrorOutput => o.output_type === "error");
    const error = sent ?? errorFromStderr(collector.stderr);
    if (!sent) cell.outputs.push(error);
    return { ...base, checks, status: "failed", durationMs, executionCount, error: { name: error.ename, message: error.evalue, traceback: error.traceback } };
  }
  const failedChecks = checks.filter((c) => !c.passed);
  return { ...base, checks, status: failedChecks.length ? "failed" : "passed", durationMs, executionCount };
}
