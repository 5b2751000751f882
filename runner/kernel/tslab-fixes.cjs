// Fixes for the tslab kernel's bugs (docs/writing-labs.md, "The launcher"), applied by patching
// zeromq and tslab in this process. Required by launcher.cjs before tslab starts, and by tests.
// Plain CommonJS: the launcher must start without tsx, as Jupyter runs it directly.
"use strict";
const fs = require("node:fs");
const zmq = require("zeromq");
const { errorFromStderr } = require("./cell-error.cjs");
const jupyter = require("tslab/dist/jupyter.js");

// 1. tslab does not await socket.send(); overlapping sends throw EBUSY and the message is
//    silently lost. Sends are chained per socket here, so each waits for the previous one.
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

// 2. The IOPub PUB socket drops messages past its high-water mark (1000). tslab creates it as
//    `new zmq.Publisher()`; this one has no limit, set before the socket binds.
const OriginalPublisher = zmq.Publisher;
zmq.Publisher = class Publisher extends OriginalPublisher {
  constructor(options) {
    super({ sendHighWaterMark: 0, ...options });
  }
};

// 3. tslab sends no `error` message for a failed cell (tslab 1.0.22), so Jupyter shows only
//    a stderr trace. Its execute handler is replaced by the same steps plus an `error` message,
//    built from the cell's stderr, and the error fields in execute_reply that protocol 5.3 asks for.
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

// 4. tslab starts its receive loops before it binds the sockets. zeromq refuses receive() on a
//    socket whose bind is still in progress (EBUSY "Socket is blocked by a bind or unbind
//    operation"), and a client that connects early can deliver a message inside that window: the
//    loop's next receive() then throws, unhandled, and the kernel never answers (seen in CI, under
//    nbconvert). Here every socket is bound first, and the loops start after.
async function serve(socket, handle) {
  try {
    for await (const frames of socket) handle(frames);
  } catch (error) {
    if (!socket.closed) throw error;
  }
}

jupyter.ZmqServer.prototype.init = async function initBindingFirst() {
  const info = JSON.parse(fs.readFileSync(this.configPath, "utf-8"));
  this.connInfo = info;
  this.iopub = new zmq.Publisher();
  this.shell = new zmq.Router();
  this.control = new zmq.Router();
  this.stdin = new zmq.Router();
  this.hb = new zmq.Reply();
  await Promise.all([
    this.bindSocket(this.iopub, info.iopub_port),
    this.bindSocket(this.shell, info.shell_port),
    this.bindSocket(this.control, info.control_port),
    this.bindSocket(this.stdin, info.stdin_port),
    this.bindSocket(this.hb, info.hb_port),
  ]);
  void serve(this.shell, (frames) => this.handleShellMessage(this.shell, ...frames));
  void serve(this.control, (frames) => this.handleShellMessage(this.control, ...frames));
  // The heartbeat echoes what it receives.
  void serve(this.hb, (frames) => this.hb.send(frames));
};
