// The runner's side of cell-runner-child.cjs: a fresh Node process that runs the hidden checks when
// grading, with the same surface as KernelSession (start, execute with a timeout, close, kill), so the
// notebook run treats both alike. A timeout or a death ends the process; the next cell gets a new one.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { KernelDiedError } from "../kernel/client.ts";
import { newMessage, type Message } from "../kernel/wire.ts";
import type { CellExecution, CellSession } from "./cell-session.ts";

const CHILD = fileURLToPath(new URL("./cell-runner-child.cjs", import.meta.url));

interface ChildMessage {
  id?: number;
  kind: "ready" | "reply" | "stream" | "display_data" | "error";
  status?: "ok" | "error";
  content?: Record<string, unknown>;
}

export class CellRunner implements CellSession {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private nextId = 1;
  private stderrTail = "";
  private readonly session = `labbook-cells-${process.pid}`;

  private readonly options: { cwd: string; env: Record<string, string> };

  constructor(options: { cwd: string; env: Record<string, string> }) {
    this.options = options;
  }

  async start(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return;
    // execArgv: [] because fork passes on the parent's (e.g. --import tsx), which the notebook's folder may not resolve.
    const child = fork(CHILD, [], { execArgv: [], cwd: this.options.cwd, env: { ...process.env, ...this.options.env }, stdio: ["ignore", "ignore", "pipe", "ipc"], serialization: "advanced" });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (this.stderrTail = (this.stderrTail + chunk).slice(-4000)));
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: ChildMessage) => {
        if (message.kind !== "ready") return;
        child.off("message", onMessage);
        resolve();
      };
      child.on("message", onMessage);
      child.once("exit", (code, signal) => reject(new KernelDiedError(code, signal, this.stderrTail.trim())));
    });
  }

  async execute(code: string, timeoutMs: number, onOutput: (message: Message) => void): Promise<CellExecution> {
    await this.start();
    const child = this.child!;
    const id = this.nextId++;
    let timer: NodeJS.Timeout | undefined;
    let onMessage: ((message: ChildMessage) => void) | undefined;
    let onExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;
    const outcome = await new Promise<CellExecution | "timeout">((resolve) => {
      onMessage = (message: ChildMessage) => {
        if (message.id !== id) return;
        if (message.kind === "reply") resolve({ kind: "replied", reply: { status: message.status ?? "error" }, interrupted: false });
        else onOutput(newMessage(message.kind, this.session, message.content ?? {}));
      };
      onExit = (exitCode, signal) => resolve({ kind: "died", error: new KernelDiedError(exitCode, signal, this.stderrTail.trim()) });
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
      child.on("message", onMessage);
      child.once("exit", onExit);
      child.send({ id, code });
    });
    clearTimeout(timer);
    child.off("message", onMessage!);
    child.off("exit", onExit!);
    if (outcome !== "timeout") return outcome;
    // No interrupting a process's event loop from outside: it goes, and its names with it.
    this.kill();
    await this.exited;
    return { kind: "timed-out", restarted: true };
  }

  async close(): Promise<void> {
    this.kill();
    await this.exited;
  }

  kill(): void {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}
