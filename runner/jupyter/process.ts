// Jupyter (JupyterLab, or the classic Notebook) as a child process. It runs detached, in its own process group, so a Ctrl-C
// at the terminal reaches labbook alone; stop() sends SIGTERM to that group, and Jupyter shuts
// its kernels down (they run in sessions of their own). Jupyter also gets SIGTERM from the
// kernel if labbook dies (setpriv --pdeathsig).
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { LabbookError } from "../errors.ts";

/** Jupyter gets this long to shut its kernels down after SIGTERM, then its group is killed. */
const STOP_GRACE_MS = 15_000;
const LOG_TAIL_LINES = 80;

export interface JupyterExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface JupyterOptions {
  /** jupyter-lab or jupyter-notebook. */
  executable: string;
  /** Its options (frontend.ts): on 127.0.0.1:port only, serving the notebook folder. */
  args: string[];
  notebookDir: string;
  env: NodeJS.ProcessEnv;
  /** Each line Jupyter (and its kernels) print. */
  onLog?: (line: string) => void;
}

export interface JupyterProcess {
  /** Resolves when Jupyter exits, whatever the reason. */
  exited: Promise<JupyterExit>;
  /** How Jupyter exited, once it has. */
  exit(): JupyterExit | undefined;
  /** Whether it was started and has not exited (yet). */
  running(): boolean;
  /** The last lines Jupyter and its kernels printed. */
  logTail(): string;
  /** SIGTERM to its process group, SIGKILL after a grace period; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Whether `path` is a file this process may execute. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable called `name` on PATH. */
export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin").split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Calls `onLine` for each line the stream prints. */
function eachLine(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  let partial = "";
  stream?.setEncoding("utf8");
  stream?.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  });
}

/** Starts Jupyter in a process group of its own; it is not answering yet when this returns. */
export function spawnJupyter(options: JupyterOptions): JupyterProcess {
  const { args } = options;
  // If labbook dies without cleaning up (kill -9), the kernel sends Jupyter SIGTERM.
  const setpriv = findExecutable("setpriv");
  const [command, argv] = setpriv ? [setpriv, ["--pdeathsig", "TERM", "--", options.executable, ...args]] : [options.executable, args];
  const child: ChildProcess = spawn(command, argv, { cwd: options.notebookDir, detached: true, stdio: ["ignore", "pipe", "pipe"], env: options.env });
  const tail: string[] = [];
  let exitInfo: JupyterExit | undefined;
  const exited = new Promise<JupyterExit>((resolve) => {
    child.once("exit", (code, sig) => resolve((exitInfo = { code, signal: sig })));
    child.once("error", (error) => {
      tail.push(`labbook: cannot start ${command}: ${error.message}`);
      resolve((exitInfo = { code: null, signal: null }));
    });
  });
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > LOG_TAIL_LINES) tail.shift();
    options.onLog?.(line);
  };
  eachLine(child.stdout, keep);
  eachLine(child.stderr, keep);
  const running = () => !exitInfo && child.pid !== undefined;

  const stop = async () => {
    if (exitInfo || child.pid === undefined) return;
    const group = -child.pid;
    try {
      process.kill(group, "SIGTERM");
    } catch {
      // gone already
    }
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), STOP_GRACE_MS)));
    const first = await Promise.race([exited, grace]);
    clearTimeout(timer);
    if (first === "timeout") {
      try {
        process.kill(group, "SIGKILL");
      } catch {
        // gone meanwhile
      }
      await exited;
    }
  };

  return { exited, exit: () => exitInfo, running, logTail: () => tail.join("\n"), stop };
}

/** "signal SIGTERM" or "exit code 1", for messages. */
export function describeExit(exit: JupyterExit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves once Jupyter answers on `baseUrl` with `token`: a 200 proves this is our server, not
 * something else on the port. Throws if it exits first, or stays silent for `timeoutMs`.
 */
export async function waitUntilAnswering(jupyter: JupyterProcess, baseUrl: string, token: string, timeoutMs: number, checkAbort: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    checkAbort();
    const exit = jupyter.exit();
    if (exit) throw new LabbookError(`Jupyter stopped (${describeExit(exit)}) before it answered on ${baseUrl}:\n${jupyter.logTail()}`);
    if (Date.now() > deadline) throw new LabbookError(`Jupyter did not answer on ${baseUrl} within ${timeoutMs} ms:\n${jupyter.logTail()}`);
    try {
      const response = await fetch(`${baseUrl}/api/status`, { headers: { Authorization: `token ${token}` }, signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
}
