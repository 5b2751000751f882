// The Jupyter messaging protocol 5.3 on the wire: frames, HMAC-SHA256 signatures, headers.
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";

const DELIMITER = "<IDS|MSG>";

export interface MessageHeader {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

export interface Message<C = Record<string, unknown>> {
  header: MessageHeader;
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: C;
}

export function newMessage(msgType: string, session: string, content: Record<string, unknown>): Message {
  return {
    header: { msg_id: randomUUID(), session, username: "labbook", date: new Date().toISOString(), msg_type: msgType, version: "5.3" },
    parent_header: {},
    metadata: {},
    content,
  };
}

function sign(key: string, parts: Buffer[]): string {
  const hmac = createHmac("sha256", key);
  for (const part of parts) hmac.update(part);
  return hmac.digest("hex");
}

export function encode(key: string, message: Message): Buffer[] {
  const parts = [message.header, message.parent_header, message.metadata, message.content].map((p) => Buffer.from(JSON.stringify(p)));
  return [Buffer.from(DELIMITER), Buffer.from(sign(key, parts)), ...parts];
}

/** Parses frames (any routing prefix is skipped); throws on a bad signature. */
export function decode(key: string, frames: Buffer[]): Message {
  const at = frames.findIndex((f) => f.toString() === DELIMITER);
  if (at < 0 || frames.length < at + 6) throw new Error("malformed Jupyter message: no delimiter or too few frames");
  const signature = frames[at + 1]!;
  const parts = frames.slice(at + 2, at + 6);
  const expected = Buffer.from(sign(key, parts));
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) throw new Error("Jupyter message with a bad HMAC signature");
  const [header, parent, metadata, content] = parts.map((p) => JSON.parse(p.toString("utf8")) as Record<string, unknown>);
  return { header: header as unknown as MessageHeader, parent_header: parent as Partial<MessageHeader>, metadata: metadata!, content: content! };
}
