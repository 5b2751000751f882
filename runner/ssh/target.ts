// How to reach one node over SSH: what a backend hands the SSH layer.
import type { ConnectConfig } from "ssh2";

export interface SshTarget {
  config: ConnectConfig;
  dispose(): void;
  /** What the transport said on its way down, for connection errors. */
  diagnostics?(): string;
  /** What to do when the node does not answer (a stopped or hung VM), for connection errors. */
  whenUnreachable?: string;
}
