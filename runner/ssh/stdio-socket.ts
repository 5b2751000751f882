// A child process's stdin/stdout as the one Duplex ssh2 wants for `sock`.
// Hand-made rather than Duplex.from(): that one raises ERR_STREAM_PREMATURE_CLOSE
// when the process dies, after ssh2 has stopped listening for errors.
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { Duplex } from "node:stream";

export function stdioSocket(child: ChildProcessWithoutNullStreams): Duplex {
  const socket = new Duplex({
    read() {
      child.stdout.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (child.stdin.writable) child.stdin.write(chunk, () => callback());
      else callback();
    },
    final(callback) {
      child.stdin.end();
      callback();
    },
    destroy(error, callback) {
      child.stdin.destroy();
      child.stdout.destroy();
      callback(error);
    },
  });
  child.stdout.on("data", (chunk: Buffer) => {
    if (!socket.push(chunk)) child.stdout.pause();
  });
  child.stdout.once("close", () => socket.push(null));
  // A dead transport must look like a dropped TCP connection, or ssh2 waits forever for replies.
  child.once("close", () => socket.destroy());
  // EPIPE once the process is gone: ssh2 learns of that from the read side ending.
  child.stdin.on("error", () => {});
  child.stdout.on("error", () => {});
  return socket;
}
