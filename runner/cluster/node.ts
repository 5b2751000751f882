import { readFile, writeFile } from "node:fs/promises";
import { quote } from "zx/core";
import type { TopologyNode } from "../topology/types.ts";
import type { SshConnection } from "../ssh/connection.ts";
import { makeDollar, type Dollar, type RunOptions } from "./dollar.ts";
import { LabbookError } from "../errors.ts";
import { CommandError, CommandResult } from "./result.ts";

/** Seconds the node-side `timeout` waits after TERM before it sends KILL. */
const KILL_GRACE_S = 1;

/** A machine of the cluster, reached over its one reused SSH connection. */
export class Node {
  readonly name: string;
  readonly ip: string;
  readonly roles: readonly string[];
  /** The interface that carries `ip` (eth0 on the embedded cluster, eth1 on Vagrant VMs). */
  readonly lanInterface: string;
  /** Runs a command on this node: zx's tagged template with zx's quoting. */
  readonly $: Dollar<CommandResult>;
  private readonly connection: () => Promise<SshConnection>;

  constructor(spec: TopologyNode, connection: () => Promise<SshConnection>) {
    this.connection = connection;
    this.name = spec.name;
    this.ip = spec.ip;
    this.roles = spec.roles;
    this.lanInterface = spec.lanInterface ?? "eth0";
    this.$ = makeDollar((command, options) => this.run(command, options));
  }

  /** Runs a shell command given as one string (no quoting is applied). */
  async run(command: string, options: RunOptions = {}): Promise<CommandResult> {
    const connection = await this.connection();
    // The node's own `timeout` kills the whole process group, which closing the channel would not.
    const wire = options.timeout === undefined ? command : `timeout -k ${KILL_GRACE_S} ${options.timeout / 1000} bash -c ${quote(command)}`;
    const localLimit = options.timeout === undefined ? undefined : options.timeout + (KILL_GRACE_S + 2) * 1000;
    const raw = await connection.exec(wire, { timeoutMs: localLimit, input: options.input, onStdout: options.onStdout, onStderr: options.onStderr });
    const timedOut = raw.timedOut || (options.timeout !== undefined && (raw.exitCode === 124 || raw.exitCode === 137) && raw.durationMs >= options.timeout);
    const result = new CommandResult(this.name, command, raw.stdout, raw.stderr, raw.exitCode, raw.signal, raw.durationMs, timedOut);
    if (!result.ok && !options.nothrow) throw new CommandError(result);
    return result;
  }

  /** Writes a local file or a buffer to `remotePath` over SFTP. */
  async put(source: string | Buffer, remotePath: string, mode = 0o644): Promise<void> {
    const data = typeof source === "string" ? await readFile(source) : source;
    const sftp = await (await this.connection()).sftp();
    await new Promise<void>((resolve, reject) => {
      sftp.writeFile(remotePath, data, { mode }, (error) => (error ? reject(this.transferError("put", remotePath, error)) : resolve()));
    });
  }

  /** Reads `remotePath` over SFTP; with `localPath`, also writes it there. */
  async get(remotePath: string, localPath?: string): Promise<Buffer> {
    const sftp = await (await this.connection()).sftp();
    const data = await new Promise<Buffer>((resolve, reject) => {
      sftp.readFile(remotePath, (error, buffer) => (error ? reject(this.transferError("get", remotePath, error)) : resolve(buffer)));
    });
    if (localPath) await writeFile(localPath, data);
    return data;
  }

  private transferError(verb: string, path: string, error: Error): Error {
    return new LabbookError(`${this.name}: ${verb} ${path} failed: ${error.message}`);
  }

  toString(): string {
    return this.name;
  }
}
