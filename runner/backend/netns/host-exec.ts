// Runs the few host-side tools the netns backend needs (nsenter, ip), with input
// on stdin and a readable error that carries the tool's own stderr.
import { spawn } from "node:child_process";
import { LabbookError } from "../../errors.ts";

export interface HostExecOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
  /** Names the step in errors, e.g. "configure node2". */
  step: string;
}

export function hostExec(command: string, args: string[], options: HostExecOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...options.env } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", (error) => reject(new LabbookError(`${options.step}: cannot run ${command}: ${error.message}`)));
    child.once("close", (code) => {
      if (code === 0) resolve(stdout);
      else reject(new LabbookError(`${options.step}: ${command} exited with ${code}: ${stderr.trim() || stdout.trim()}`));
    });
    child.stdin.on("error", () => {}); // EPIPE when the tool exits early; its exit code tells why
    child.stdin.end(options.input ?? "");
  });
}
