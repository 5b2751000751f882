// One way to run the tools of the Kubernetes build and start (go, kubeadm, containerd's ctr): stdout back,
// and on failure an error with the end of what the tool said on stderr.
import { spawn } from "node:child_process";
import { LabbookError } from "../errors.ts";

export interface CommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** How errors name the command, when its arguments (a script) would say too much. */
  what?: string;
}

/** Runs `command args...`; resolves to its stdout, rejects with its stderr's last 30 lines (less Go's download chatter). */
export function runCommand(command: string, args: string[], options: CommandOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-20_000)));
    child.once("error", (error) => reject(new LabbookError(`cannot run ${command}: ${error.message}`)));
    child.once("close", (code) => {
      if (code === 0) return resolve(stdout);
      const shown = stderr.split("\n").filter((line) => !line.startsWith("go: downloading")).slice(-30).join("\n").trim();
      reject(new LabbookError(`${options.what ?? `${command} ${args.join(" ")}`} failed (exit ${code})${options.cwd ? ` in ${options.cwd}` : ""}:\n${shown}`));
    });
  });
}
