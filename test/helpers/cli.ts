import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bin/labbook.js", import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `labbook` command, as a user would. */
export function labbook(args: string[], input?: string, as?: { uid: number; gid: number }): Promise<CliResult> {
  return finished(startLabbook(args, as), input);
}

export function startLabbook(args: string[], as?: { uid: number; gid: number }): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { stdio: ["pipe", "pipe", "pipe"], env: process.env, ...as });
}

export function finished(child: ChildProcess, input?: string): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  child.stdin!.end(input);
  return new Promise((resolve) => child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Polls until `probe` is true; fails with `what` after the timeout. */
export async function until(probe: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
