import { LabbookError } from "../errors.ts";
// One SSH connection to one node, reused for every command, transfer and shell.
import type { Readable } from "node:stream";
import type { ClientChannel, SFTPWrapper } from "ssh2";
import { Client } from "./ssh2-parts.ts";
import type { SshTarget } from "./target.ts";
import { Semaphore } from "../host/semaphore.ts";

export interface RawExecResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
}

export interface ExecOptions {
  timeoutMs?: number;
  /** The command's stdin: text, bytes, or a stream (a large file is not read into memory first). */
  input?: string | Buffer | Readable;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

/** Below sshd's MaxSessions (128), so a burst of commands queues instead of failing. */
const MAX_CHANNELS = 100;

export class SshConnection {
  private readonly client = new Client();
  private readonly channels = new Semaphore(MAX_CHANNELS);
  private sftpSession?: Promise<SFTPWrapper>;
  private closedReason?: string;

  readonly label: string;
  private readonly target: SshTarget;

  private constructor(label: string, target: SshTarget) {
    this.label = label;
    this.target = target;
  }

  static async open(label: string, target: SshTarget): Promise<SshConnection> {
    const connection = new SshConnection(label, target);
    await connection.handshake();
    return connection;
  }

  private handshake(): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (error: Error) => {
        this.target.dispose();
        const detail = this.target.diagnostics?.();
        const hint = this.target.whenUnreachable ? `; ${this.target.whenUnreachable}` : "";
        reject(new LabbookError(`cannot connect to ${this.label}: ${error.message}${detail ? ` (sshd: ${detail})` : ""}${hint}`));
      };
      this.client.once("ready", () => {
        this.client.off("error", fail);
        this.client.on("error", (error) => (this.closedReason ??= `connection lost (${error.message})`));
        this.client.once("close", () => (this.closedReason ??= "connection lost"));
        resolve();
      });
      this.client.once("error", fail);
      this.client.connect(this.target.config);
    });
  }

  async exec(command: string, options: ExecOptions = {}): Promise<RawExecResult> {
    const release = await this.channels.acquire();
    try {
      return await this.execOnChannel(command, options);
    } finally {
      release();
    }
  }

  private execOnChannel(command: string, options: ExecOptions): Promise<RawExecResult> {
    if (this.closedReason) return Promise.reject(new LabbookError(`${this.label}: ${this.closedReason}`));
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const onChannel = (error: Error | undefined, channel: ClientChannel) => {
        if (error) return reject(new LabbookError(`${this.label}: cannot start command: ${error.message}`));
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let exitCode: number | null = null;
        let signal: string | null = null;
        let timedOut = false;
        const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
          timedOut = true;
          killChannel(channel);
        }, options.timeoutMs);
        channel.on("data", (chunk: Buffer) => (stdout.push(chunk), options.onStdout?.(chunk)));
        channel.stderr.on("data", (chunk: Buffer) => (stderr.push(chunk), options.onStderr?.(chunk)));
        channel.on("exit", (code: number | null, signalName?: string) => {
          exitCode = code;
          signal = signalName ?? null;
        });
        channel.on("close", () => {
          clearTimeout(timer);
          resolve({
            stdout: Buffer.concat(stdout).toString("utf8"),
            stderr: Buffer.concat(stderr).toString("utf8"),
            exitCode,
            signal,
            timedOut,
            durationMs: performance.now() - started,
          });
        });
        if (isStream(options.input)) {
          // A source that fails midway must not pass for a complete stdin: the command is ended, and its
          // result is the source's error.
          const source = options.input;
          source.once("error", (error) => {
            clearTimeout(timer);
            killChannel(channel);
            reject(new LabbookError(`${this.label}: reading the command's stdin failed: ${error.message}`));
          });
          source.pipe(channel);
        } else {
          channel.end(options.input);
        }
      };
      try {
        this.client.exec(command, onChannel);
      } catch (error) {
        // ssh2 throws synchronously once the transport is gone, before any "close" event.
        reject(new LabbookError(`${this.label}: connection lost (${(error as Error).message})`));
      }
    });
  }

  /** A login shell for `labbook ssh`: on a pseudo-terminal when the user has one, on pipes otherwise. */
  shell(window: { rows: number; cols: number; term: string }, pty: boolean): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      const done = (error: Error | undefined, channel: ClientChannel) => (error ? reject(error) : resolve(channel));
      if (pty) this.client.shell({ rows: window.rows, cols: window.cols, term: window.term }, done);
      else this.client.shell(false, done);
    });
  }

  sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= new Promise((resolve, reject) => {
      this.client.sftp((error, sftp) => (error ? reject(new LabbookError(`${this.label}: cannot open SFTP: ${error.message}`)) : resolve(sftp)));
    });
    return this.sftpSession;
  }

  close(): void {
    this.closedReason ??= "connection closed by labbook";
    this.client.end();
    this.target.dispose();
  }
}

function isStream(input: ExecOptions["input"]): input is Readable {
  return typeof input === "object" && input !== null && !Buffer.isBuffer(input) && typeof (input as Readable).pipe === "function";
}

/** Ends a command that ran past its timeout: a KILL signal, then closing the channel in case sshd ignores it. */
function killChannel(channel: ClientChannel): void {
  try {
    channel.signal("KILL");
  } catch {
    // the channel may already be closing
  }
  channel.close();
}
