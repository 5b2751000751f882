// A POSIX tar archive (ustar, with pax headers for long paths and extended attributes), written in memory.
// The node fence extracts one with GNU tar: a single process makes every whiteout (a character device
// 0/0) and directory a node's layer starts with, where one `mknod` per path took about 2 ms each.

export interface TarEntry {
  /** Relative to where the archive is extracted, without a leading "/". */
  path: string;
  type: "file" | "directory" | "char-device" | "symlink";
  mode: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  /** A file's bytes: text is written as UTF-8. */
  content?: string | Buffer;
  /** A symlink's target. */
  target?: string;
  /** A character device's numbers; a whiteout's are 0/0, the default. */
  major?: number;
  minor?: number;
  /** Extended attributes, e.g. { "trusted.overlay.opaque": "y" } (GNU tar needs --xattrs to apply them). */
  xattrs?: Record<string, string>;
}

const BLOCK = 512;
const TYPE_FLAG = { file: "0", symlink: "2", "char-device": "3", directory: "5" } as const;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function header(name: string, size: number, typeFlag: string, entry: Pick<TarEntry, "mode" | "uid" | "gid" | "mtime" | "target" | "major" | "minor">): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, "utf8");
  block.write(octal(entry.mode & 0o7777, 8), 100, "ascii");
  block.write(octal(entry.uid ?? 0, 8), 108, "ascii");
  block.write(octal(entry.gid ?? 0, 8), 116, "ascii");
  block.write(octal(size, 12), 124, "ascii");
  block.write(octal(Math.floor(entry.mtime ?? Date.now() / 1000), 12), 136, "ascii");
  block.write(typeFlag, 156, "ascii");
  block.write(entry.target ?? "", 157, 100, "utf8");
  block.write("ustar\0" + "00", 257, "ascii");
  block.write(octal(entry.major ?? 0, 8), 329, "ascii");
  block.write(octal(entry.minor ?? 0, 8), 337, "ascii");
  block.fill(" ", 148, 156); // the checksum counts its own field as spaces
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "ascii");
  return block;
}

function padded(data: Buffer): Buffer {
  const rest = data.length % BLOCK;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)]);
}

/** A pax record "LEN key=value\n", where LEN counts the whole record, itself included. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return `${length}${body}`;
}

function entryBlocks(entry: TarEntry): Buffer[] {
  const name = entry.type === "directory" ? `${entry.path}/` : entry.path;
  const content = Buffer.isBuffer(entry.content) ? entry.content : Buffer.from(entry.content ?? "", "utf8");
  const records = Object.entries(entry.xattrs ?? {}).map(([key, value]) => paxRecord(`SCHILY.xattr.${key}`, value));
  if (Buffer.byteLength(name) > 99) records.unshift(paxRecord("path", name));
  const blocks: Buffer[] = [];
  if (records.length > 0) {
    const pax = Buffer.from(records.join(""), "utf8");
    blocks.push(header("PaxHeader", pax.length, "x", { mode: 0o644, mtime: entry.mtime }), padded(pax)); // the entry's mtime, so a fixed one gives the same bytes
  }
  blocks.push(header(Buffer.byteLength(name) > 99 ? name.slice(0, 99) : name, content.length, TYPE_FLAG[entry.type], entry));
  if (content.length > 0) blocks.push(padded(content));
  return blocks;
}

export function tarArchive(entries: TarEntry[]): Buffer {
  return Buffer.concat([...entries.flatMap(entryBlocks), Buffer.alloc(2 * BLOCK)]);
}
