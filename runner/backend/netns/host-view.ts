// What an embedded node sees of the host's files. A node's root is an overlay whose lower layer is the
// host's root; what it must not see is a whiteout (a character device 0/0, overlayfs's "not here") in its
// upper layer. infra/node-host-view.txt says what shows; this turns it, once per cluster, into an
// archive of those whiteouts, plus the password files without their hashes, an opaque /root and an
// opaque /dev with the few devices labs use, that each node's fence extracts into its layer with one `tar`.
import { lstatSync, readFileSync, readdirSync, type Stats } from "node:fs";
import { dirname, join } from "node:path";
import { LabbookError } from "../../errors.ts";
import { tarArchive, type TarEntry } from "../../host/tar.ts";

export interface HostViewSpec {
  /** Of each dir's entries, only these names show. */
  show: Array<{ dir: string; names: string[] }>;
  /** Paths hidden besides; a `*` or `?` in a component matches as in the shell. */
  hide: string[];
}

export function parseHostView(text: string, file: string): HostViewSpec {
  const spec: HostViewSpec = { show: [], hide: [] };
  text.split("\n").forEach((raw, index) => {
    const [verb, ...words] = raw.replace(/#.*/, "").trim().split(/\s+/);
    if (!verb) return;
    const where = `${file}:${index + 1}`;
    if (verb === "show") {
      const [dir, ...names] = words;
      if (!dir?.startsWith("/")) throw new LabbookError(`${where}: "show" needs an absolute directory, then the names that show`);
      if (names.some((name) => name.includes("/"))) throw new LabbookError(`${where}: a name to show is an entry of ${dir}, without "/"`);
      spec.show.push({ dir, names });
    } else if (verb === "hide") {
      const relative = words.find((word) => !word.startsWith("/"));
      if (relative !== undefined) throw new LabbookError(`${where}: "hide" takes absolute paths, not "${relative}"`);
      spec.hide.push(...words);
    } else {
      throw new LabbookError(`${where}: unknown line "${verb}" (use "show DIR NAME..." or "hide PATH...")`);
    }
  });
  return spec;
}

function statOf(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function entriesOf(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The existing paths a pattern names, matched component by component against the host. */
function expand(pattern: string): string[] {
  let paths = ["/"];
  for (const part of pattern.split("/").filter(Boolean)) {
    if (!/[*?]/.test(part)) {
      paths = paths.map((path) => join(path, part));
      continue;
    }
    const matcher = new RegExp(`^${part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]")}$`);
    paths = paths.flatMap((path) => entriesOf(path).filter((name) => matcher.test(name)).map((name) => join(path, name)));
  }
  return paths.filter((path) => statOf(path) !== undefined);
}

/**
 * The host paths a node must not see, outermost only: every entry of a `show` dir not named there (a
 * private directory and the folders on its way stay: they are the node's own mounts), every existing
 * match of `hide`, and the caller's own paths (the checkout, a grader's folders).
 */
export function hiddenPaths(spec: HostViewSpec, privateDirs: string[], extra: string[]): string[] {
  const leadsToPrivate = (path: string) => privateDirs.some((dir) => dir === path || dir.startsWith(`${path}/`));
  const paths = new Set<string>();
  for (const { dir, names } of spec.show) {
    for (const name of entriesOf(dir)) {
      const path = join(dir, name);
      if (!names.includes(name) && !leadsToPrivate(path)) paths.add(path);
    }
  }
  for (const pattern of spec.hide) for (const path of expand(pattern)) paths.add(path);
  for (const path of extra) if (path !== "/" && statOf(path) !== undefined) paths.add(path);
  const sorted = [...paths].sort();
  return sorted.filter((path) => !sorted.some((other) => path.startsWith(`${other}/`)));
}

/** A directory as the host has it (owner, mode, time): in an overlay, the upper layer's copy is what shows. */
function hostDirectory(path: string): TarEntry {
  const stat = statOf(path);
  return { path: path.slice(1), type: "directory", mode: stat?.mode ?? 0o755, uid: stat?.uid, gid: stat?.gid, mtime: stat ? stat.mtimeMs / 1000 : 0 };
}

const DEVICES = ["null", "zero", "full", "random", "urandom", "tty", "fuse", "net/tun"];

/**
 * A /dev of its own, as containers have: the few devices labs use, as the host has them. Root in a fenced
 * node cannot make others; the devices cgroup also refuses every block device (cgroups.ts).
 */
function deviceEntries(): TarEntry[] {
  const entries: TarEntry[] = [
    { path: "dev", type: "directory", mode: 0o755, xattrs: { "trusted.overlay.opaque": "y" } },
    { path: "dev/net", type: "directory", mode: 0o755 },
    { path: "dev/pts", type: "directory", mode: 0o755 },
    { path: "dev/shm", type: "directory", mode: 0o1777 },
    { path: "dev/ptmx", type: "file", mode: 0o666 }, // the mount point of devpts's own
    { path: "dev/fd", type: "symlink", mode: 0o777, target: "/proc/self/fd" },
    ...["stdin", "stdout", "stderr"].map((name, fd): TarEntry => ({ path: `dev/${name}`, type: "symlink", mode: 0o777, target: `/proc/self/fd/${fd}` })),
  ];
  for (const device of DEVICES) {
    const stat = statOf(`/dev/${device}`);
    if (!stat?.isCharacterDevice()) continue;
    // Linux's dev_t: the minor's low 8 bits, then the major's 12, then the minor's rest.
    const major = (stat.rdev >> 8) & 0xfff;
    const minor = (stat.rdev & 0xff) | ((stat.rdev >> 12) & 0xfff00);
    entries.push({ path: `dev/${device}`, type: "char-device", mode: stat.mode, uid: stat.uid, gid: stat.gid, major, minor });
  }
  return entries;
}

/**
 * /etc/shadow and /etc/gshadow as the host has them, every password hash replaced by "*": the accounts stay
 * (sshd refuses a login whose account it cannot find), the hashes never reach a node or an image.
 */
export function passwordFilesWithoutHashes(): TarEntry[] {
  return ["/etc/shadow", "/etc/gshadow"].flatMap((file): TarEntry[] => {
    const stat = statOf(file);
    if (!stat) return [];
    const content = readFileSync(file, "utf8").replace(/^([^:\n]*):[^:\n]*:/gm, "$1:*:");
    return [{ path: file.slice(1), type: "file", mode: 0o640, uid: stat.uid, gid: stat.gid, content }];
  });
}

export function hostViewArchive(spec: HostViewSpec, privateDirs: string[], extra: string[]): Buffer {
  const entries = new Map<string, TarEntry>();
  const addParents = (path: string) => {
    for (let dir = dirname(path); dir !== "/"; dir = dirname(dir)) if (!entries.has(dir)) entries.set(dir, hostDirectory(dir));
  };
  for (const path of hiddenPaths(spec, privateDirs, extra)) {
    addParents(path);
    entries.set(path, { path: path.slice(1), type: "char-device", mode: 0o600 });
  }
  for (const entry of passwordFilesWithoutHashes()) {
    if (entries.has(`/${entry.path}`)) continue;
    addParents(`/${entry.path}`);
    entries.set(`/${entry.path}`, entry);
  }
  // Each node's /root is its own alone, not merged with the host's (its keys, tokens, tools' settings).
  entries.set("/root", { ...hostDirectory("/root"), xattrs: { "trusted.overlay.opaque": "y" } });
  for (const entry of deviceEntries()) entries.set(`/${entry.path}`, entry);
  return tarArchive([...entries.keys()].sort().map((path) => entries.get(path)!));
}
