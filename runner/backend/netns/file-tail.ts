// The last lines of a log file, read from its end: the Kubernetes start looks at kubelet's log on every
// poll, and that log grows by megabytes.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

const CHUNK = 64 * 1024;

/** The last `lines` lines of `path` (from at most its last 64 KiB), or undefined if it cannot be read. */
export function fileTail(path: string, lines: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, CHUNK);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString("utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } finally {
    closeSync(fd);
  }
}
