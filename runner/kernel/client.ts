// A Jupyter kernel client over ZeroMQ (no Python, no Jupyter server), for the tslab
// kernel that labbook starts through its launcher.
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Semaphore } from "../host/semaphore.ts";
import { fileURLToPath } from "node:url";
import { ownedTempDir } from "../host/temp-dirs.ts";
import { Dealer, Request, Subscriber } from "zeromq";
import { LabbookError } from "../errors.ts";
import { newConnectionInfo, newIpcConnectionInfo, type ConnectionInfo } from "./connection.ts";
import { sandboxed, sandboxedKernel, type KernelSandbox } from "./sandbox.ts";
import { decode, encode, newMessage, type Message } from "./wire.ts";
import { snapshotArgs } from "./snapshot.ts";

export const LAUNCHER = fileURLToPath(new URL("./launcher.cjs", import.meta.url));

/** A port of the kernel's was taken between choosing it and binding it. */
class PortTakenError extends LabbookError {
  constructor(diagnostics: string) {
    super(`a port chosen for the kernel was taken before it could bind it: ${diagnostics}`);
  }
}

export interface ExecuteReply {
  status: "ok" | "error" | "abort";
  execution_count?: number;
}

export class KernelDiedError extends LabbookError {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;

  constructor(code: number | null, signal: NodeJS.Signals | null, stderr: string) {
    super(`the kernel died (${signal ? `signal ${signal}` : `exit code ${code}`})${stderr ? `: ${stderr.split("\n").slice(-5).join("\n")}` : ""}`);
    this.code = code;
    this.signal = signal;
    this.stderr = stderr;
  }
}

interface PendingRequest {
  onIopub?: (message: Message) => void;
  reply?: (message: Message) => void;
  idle?: () => void;
  fail: (error: Error) => void;
}

export interface KernelOptions {
  /** The kernel's working directory: tslab resolves the notebook's imports from here. */
  cwd: string;
  env?: Record<string, string>;
  startTimeoutMs?: number;
  /** Chooses the kernel's ports and key (injectable so a test can hand it a taken port). */
  chooseConnection?: () => Promise<ConnectionInfo>;
  /** Run the kernel in a sandbox (see sandbox.ts): for code labbook did not write, a student's. */
  sandbox?: KernelSandbox;
  /** Called once each kernel (the first, or one restarted after a timeout) has started and answered. */
  onStarted?: (kernel: KernelClient) => Promise<void>;
}

/** Kernels starting at once in this process: two per core (measured: 20 at once on 2 cores timed out). */
const KERNEL_STARTS = new Semaphore(Math.max(2, 2 * availableParallelism()));

/** How often the runner's sockets try to reach a kernel that has not bound its ports yet. */
const RECONNECT_MS = 10;

/** How long each kernel_info request waits while the kernel starts: a warm kernel answers in about 200 ms. */
const KERNEL_INFO_WAIT_MS = 100;

/** How long after execute_reply to wait for the final idle status before giving up on more output. */
const IDLE_GRACE_MS = 5000;

export class KernelClient {
  private readonly session = `labbook-${process.pid}-${Date.now()}`;
  private readonly pending = new Map<string, PendingRequest>();
  // They connect before the kernel has bound its ports, and retry every reconnectInterval until it has:
  // zeromq's default (100 ms) would be half of a warm kernel's start.
  private readonly shell = new Dealer({ reconnectInterval: RECONNECT_MS });
  private readonly control = new Dealer({ reconnectInterval: RECONNECT_MS });
  private readonly iopub = new Subscriber({ reconnectInterval: RECONNECT_MS });
  private stderrTail = "";
  private exitInfo?: { code: number | null; signal: NodeJS.Signals | null };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private readonly process: ChildProcess;
  private readonly connection: ConnectionInfo;
  private readonly connectionDir: string;
  private readonly sandboxed: boolean;

  private constructor(process: ChildProcess, connection: ConnectionInfo, connectionDir: string, sandboxed = false) {
    this.process = process;
    this.connection = connection;
    this.connectionDir = connectionDir;
    this.sandboxed = sandboxed;
    process.stderr?.setEncoding("utf8").on("data", (chunk: string) => (this.stderrTail = (this.stderrTail + chunk).slice(-4000)));
    process.stdout?.resume();
    this.exited = new Promise((resolve) => {
      process.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        const error = new KernelDiedError(code, signal, this.stderrTail.trim());
        for (const request of this.pending.values()) request.fail(error);
        this.pending.clear();
        this.closeSockets();
        rmSync(this.connectionDir, { recursive: true, force: true });
        resolve(this.exitInfo);
      });
    });
  }

  /**
   * Ports are chosen free, but another process (many kernels start at once when grading) can take one
   * before tslab binds it; tslab then hangs on an unhandled EADDRINUSE. That is seen at once, and the
   * kernel is started again on new ports.
   */
  static async start(options: KernelOptions, attempts = 3): Promise<KernelClient> {
    for (let attempt = 1; ; attempt++) {
      let client: KernelClient;
      try {
        client = await KernelClient.startOnce(options);
      } catch (error) {
        if (!(error instanceof PortTakenError) || attempt >= attempts) throw error;
        continue;
      }
      try {
        await options.onStarted?.(client);
      } catch (error) {
        client.kill();
        await client.exited;
        throw error;
      }
      return client;
    }
  }

  private static async startOnce(options: KernelOptions): Promise<KernelClient> {
    // A kernel's start is about 2 s of CPU (tslab compiling its TypeScript). Many at once on few cores
    // would each run past the start timeout; queued, each starts in its time, and the timeout stays honest.
    const release = await KERNEL_STARTS.acquire();
    try {
      return await KernelClient.spawnKernel(options);
    } finally {
      release();
    }
  }

  private static async spawnKernel(options: KernelOptions): Promise<KernelClient> {
    const dir = ownedTempDir("kernel");
    const connection = options.sandbox ? newIpcConnectionInfo(dir) : await (options.chooseConnection ?? newConnectionInfo)();
    const file = join(dir, "connection.json");
    writeFileSync(file, JSON.stringify(connection), { mode: 0o600 });
    const launch = options.sandbox
      ? sandboxed(options.sandbox, dir, options.cwd, process.execPath, [...snapshotArgs(), LAUNCHER, "kernel", "--config-path", file])
      : { command: process.execPath, args: [...snapshotArgs(), LAUNCHER, "kernel", "--config-path", file], env: {} };
    const child = spawn(launch.command, launch.args, {
      cwd: options.cwd,
      // Own process group: a Ctrl-C at the terminal is for labbook, which then stops the kernel itself.
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
      // A sandboxed kernel's stdin is /dev/null: its sandbox's PID 1 watches the runner for it.
      env: { ...process.env, ...options.env, ...launch.env, LABBOOK_KERNEL_WATCH_PARENT: options.sandbox ? "0" : "1" },
    });
    const client = new KernelClient(child, connection, dir, options.sandbox !== undefined);
    child.once("error", () => {}); // reported through "exit"
    try {
      await client.connect(options.startTimeoutMs ?? 30_000);
    } catch (error) {
      client.kill();
      await client.exited;
      throw error;
    }
    return client;
  }

  /** The kernel's own scratch directory: its connection file, and for a sandboxed kernel its cluster file. */
  get directory(): string {
    return this.connectionDir;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  get diagnostics(): string {
    return this.stderrTail.trim();
  }

  private address(port: number): string {
    // tslab's own form for both transports (jupyter.js): transport://ip:port.
    return `${this.connection.transport}://${this.connection.ip}:${port}`;
  }

  private async connect(timeoutMs: number): Promise<void> {
    this.shell.connect(this.address(this.connection.shell_port));
    this.control.connect(this.address(this.connection.control_port));
    this.iopub.connect(this.address(this.connection.iopub_port));
    this.iopub.subscribe();
    void this.readLoop(this.shell, (m) => this.pending.get(m.parent_header.msg_id ?? "")?.reply?.(m));
    void this.readLoop(this.control, (m) => this.pending.get(m.parent_header.msg_id ?? "")?.reply?.(m));
    void this.readLoop(this.iopub, (m) => this.routeIopub(m));

    // IOPub subscriptions take effect asynchronously: ask for kernel_info until its status
    // messages arrive on IOPub, so no cell's output can be published before we listen.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.alive) throw new KernelDiedError(this.exitInfo!.code, this.exitInfo!.signal, this.diagnostics);
      if (/EADDRINUSE/.test(this.stderrTail)) throw new PortTakenError(this.diagnostics);
      if (Date.now() > deadline) throw new LabbookError(`the kernel did not answer within ${timeoutMs} ms${this.diagnostics ? `: ${this.diagnostics}` : ""}`);
      const seenOnIopub = await this.request(this.shell, "kernel_info_request", {}, KERNEL_INFO_WAIT_MS, true).catch(() => false);
      if (seenOnIopub) break;
    }
    await this.heartbeat(Math.max(1000, deadline - Date.now()));
  }

  /** One ping on the heartbeat channel: the kernel's event loop is alive. */
  async heartbeat(timeoutMs = 2000): Promise<void> {
    const hb = new Request({ receiveTimeout: timeoutMs, sendTimeout: timeoutMs, linger: 0 });
    try {
      hb.connect(this.address(this.connection.hb_port));
      await hb.send("ping");
      const [echo] = await hb.receive();
      if (echo?.toString() !== "ping") throw new LabbookError("the kernel's heartbeat answered wrongly");
    } finally {
      hb.close();
    }
  }

  private async readLoop(socket: Dealer | Subscriber, route: (message: Message) => void): Promise<void> {
    try {
      for await (const frames of socket) {
        try {
          route(decode(this.connection.key, frames));
        } catch {
          // a message we cannot verify is ignored, as Jupyter clients do
        }
      }
    } catch {
      // the socket was closed
    }
  }

  private routeIopub(message: Message): void {
    const request = this.pending.get(message.parent_header.msg_id ?? "");
    if (!request) return;
    if (message.header.msg_type === "status" && (message.content as { execution_state?: string }).execution_state === "idle") request.idle?.();
    else request.onIopub?.(message);
  }

  /** Sends a request; resolves with the reply, or with whether IOPub saw it (`probeIopub`). */
  private request(socket: Dealer, type: string, content: Record<string, unknown>, timeoutMs: number, probeIopub = false): Promise<boolean> {
    const message = newMessage(type, this.session, content);
    const id = message.header.msg_id;
    return new Promise((resolve, reject) => {
      let replied = false;
      let sawIopub = false;
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(value);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.pending.set(id, {
        reply: () => {
          replied = true;
          if (!probeIopub || sawIopub) done(true);
        },
        onIopub: () => (sawIopub = true),
        idle: () => {
          sawIopub = true;
          if (replied) done(true);
        },
        fail: (error) => (clearTimeout(timer), reject(error)),
      });
      void socket.send(encode(this.connection.key, message));
    });
  }

  /** Runs code; `onOutput` sees every IOPub message of this execution (stream, display_data, error...). */
  execute(code: string, onOutput: (message: Message) => void): Promise<ExecuteReply> {
    if (!this.alive) return Promise.reject(new KernelDiedError(this.exitInfo!.code, this.exitInfo!.signal, this.diagnostics));
    const message = newMessage("execute_request", this.session, { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: false });
    const id = message.header.msg_id;
    return new Promise((resolve, reject) => {
      let reply: ExecuteReply | undefined;
      let idle = false;
      let grace: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(grace);
        this.pending.delete(id);
        resolve(reply!);
      };
      this.pending.set(id, {
        onIopub: onOutput,
        reply: (m) => {
          reply = m.content as unknown as ExecuteReply;
          if (idle) finish();
          else grace = setTimeout(finish, IDLE_GRACE_MS);
        },
        idle: () => {
          idle = true;
          if (reply) finish();
        },
        fail: (error) => {
          clearTimeout(grace);
          reject(error);
        },
      });
      void this.shell.send(encode(this.connection.key, message));
    });
  }

  /** tslab has no interrupt_request: SIGINT interrupts the running cell. */
  interrupt(): void {
    if (!this.alive) return;
    // A sandboxed kernel is below `unshare` and a shell, which do not pass signals on: signal it itself.
    const kernel = this.kernelPid;
    if (kernel !== undefined) process.kill(kernel, "SIGINT");
  }

  /** The kernel process itself (inside its sandbox, if it has one): the one to interrupt, or to plug into a network. */
  get kernelPid(): number | undefined {
    return this.sandboxed ? sandboxedKernel(this.process.pid!) : this.process.pid;
  }

  kill(): void {
    // A sandboxed kernel's `unshare` takes its whole namespace with it (sandbox-init.sh).
    if (this.alive) this.process.kill("SIGKILL");
  }

  /**
   * Polite shutdown on the control channel, then a kill if the kernel lingers. A kernel has nothing
   * to save, and tslab with open SSH connections neither answers nor exits (measured: 5 s, then 8 s,
   * still alive), so the wait is short: each notebook run and each graded submission pays it twice.
   */
  async shutdown(timeoutMs = 300): Promise<void> {
    if (!this.alive) return;
    await this.request(this.control, "shutdown_request", { restart: false }, timeoutMs).catch(() => false);
    const timer = setTimeout(() => this.kill(), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  private closeSockets(): void {
    for (const socket of [this.shell, this.control, this.iopub]) closeSoon(socket);
  }
}

/**
 * zeromq can refuse a close with EAGAIN while a send or receive is still under way (seen with 4 kernels
 * ending at once while grading). Thrown from an exit handler, that ended the whole batch; instead the
 * close is tried again shortly, so the socket is still released.
 */
function closeSoon(socket: { linger: number; close(): void; readonly closed: boolean }, attempt = 1): void {
  try {
    socket.linger = 0;
    if (!socket.closed) socket.close();
  } catch {
    if (attempt < 20) setTimeout(() => closeSoon(socket, attempt + 1), 50).unref();
  }
}
