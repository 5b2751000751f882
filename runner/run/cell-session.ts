// What runs a notebook's cells: the notebook's tslab kernel (kernel-session.ts) or, for the hidden
// checks when grading, a plain Node process (cell-runner.ts). The run treats both alike.
import type { ExecuteReply, KernelDiedError } from "../kernel/client.ts";
import type { Message } from "../kernel/wire.ts";

export type CellExecution =
  | { kind: "replied"; reply: ExecuteReply; interrupted: boolean }
  | { kind: "timed-out"; restarted: boolean }
  | { kind: "died"; error: KernelDiedError };

export interface CellSession {
  start(): Promise<void>;
  execute(code: string, timeoutMs: number, onOutput: (message: Message) => void): Promise<CellExecution>;
  close(): Promise<void>;
  /** For Ctrl-C: no politeness, the run is ending. */
  kill(): void;
}
