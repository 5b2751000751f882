#!/usr/bin/env node
// Starts the tslab kernel with fixes for its bugs (see FINDINGS, "The tslab kernel"):
//  1. tslab does not await socket.send(); overlapping sends throw EBUSY and the message is
//     silently lost. Sends are chained per socket here, so each waits for the previous one.
//  2. The IOPub PUB socket drops messages past its high-water mark (1000). It is set to 0
//     (no limit) before the socket binds.
// Used by `labbook run` and by the kernelspec `labbook kernel install` registers for Jupyter.
// Plain CommonJS: it must start without tsx, as Jupyter runs it directly.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

// Node's on-disk code cache for tslab's TypeScript (9 MB of JavaScript): measured 12% less CPU per
// kernel start, and grading starts two kernels per submission. The cache sits in the checkout's
// .labbook/ (git-ignored); launched from dist/ or runner/, that is two levels up.
try {
  require("node:module").enableCompileCache?.(path.join(__dirname, "..", "..", ".labbook", "compile-cache"));
} catch {
  // an unwritable checkout only costs speed
}

const zmq = require("zeromq");

const originalSend = zmq.Socket.prototype.send;
const pending = new WeakMap();

// `send` is read-only but configurable on zeromq's Socket prototype.
Object.defineProperty(zmq.Socket.prototype, "send", {
  configurable: true,
  writable: false,
  value: function serializedSend(message) {
    const previous = pending.get(this) || Promise.resolve();
    const next = previous.then(() => originalSend.call(this, message)).catch((error) => {
      if (this.closed) return; // shutting down: tslab still publishes a status or two
      // fd 2 directly: tslab redirects process.stderr into the notebook while a cell runs.
      fs.writeSync(2, `labbook kernel launcher: send failed: ${error && error.message}\n`);
    });
    pending.set(this, next);
    return next;
  },
});

// tslab creates its IOPub socket as `new zmq.Publisher()`; this one has no high-water mark.
const OriginalPublisher = zmq.Publisher;
zmq.Publisher = class Publisher extends OriginalPublisher {
  constructor(options) {
    super({ sendHighWaterMark: 0, ...options });
  }
};

// 3. tslab sends no `error` message for a failed cell (FINDINGS bug 2), so Jupyter shows only
//    a stderr trace. Its execute handler is replaced by the same steps plus an `error` message,
//    built from the cell's stderr, and the error fields in execute_reply that protocol 5.3 asks for.
const { errorFromStderr } = require("./cell-error.cjs");
const jupyter = require("tslab/dist/jupyter.js");
jupyter.ZmqServer.prototype.handleExecute = async function handleExecuteWithError(sock, msg) {
  const publish = (msgType, content) => {
    const message = msg.createReply();
    message.header.msg_type = msgType;
    message.content = content;
    message.signAndSend(this.connInfo.key, this.iopub);
  };
  let stderr = "";
  const writeStream = (name, text) => {
    if (name === "stderr") stderr += text;
    publish("stream", { name, text });
  };
  const writeDisplayData = (data, update) => publish(update ? "update_display_data" : "display_data", data);
  const content = await this.handler.handleExecute(msg.content, writeStream, writeDisplayData);
  if (content.status === "error") {
    const { ename, evalue, traceback } = errorFromStderr(stderr);
    publish("error", { ename, evalue, traceback });
    Object.assign(content, { ename, evalue, traceback });
  }
  const reply = msg.createReply();
  reply.header.msg_type = "execute_reply";
  reply.content = content;
  reply.signAndSend(this.connInfo.key, sock);
};

// Started by labbook run: die with the runner, even after its kill -9, rather than linger.
if (process.env.LABBOOK_KERNEL_WATCH_PARENT === "1") {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
  process.stdin.unref(); // watching, not holding: a shutdown_request must still end the process
}

require("tslab/dist/main.js").main();
