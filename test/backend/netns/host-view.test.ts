// What nodes see of the host: infra/node-host-view.txt read, turned into the paths to hide, and the archive
// of whiteouts the fence extracts with GNU tar. (driver.test.ts checks the result inside real nodes.)
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hiddenPaths, hostViewArchive, parseHostView } from "../../../runner/backend/netns/host-view.ts";
import { HOST_VIEW_FILE } from "../../../runner/backend/netns/node-files.ts";

describe("the host view of nodes", () => {
  let tree: string;
  beforeEach(() => {
    tree = mkdtempSync(join(tmpdir(), "labbook-host-view-"));
    for (const dir of ["usr/bin", "home/alice", "srv", "var/lib/dpkg", "var/lib/postgresql", "var/lib/cni", "etc/ssh", "etc/ssl/private"]) mkdirSync(join(tree, dir), { recursive: true });
    for (const file of ["etc/ssh/ssh_host_ed25519_key", "etc/ssh/ssh_host_rsa_key", "etc/ssh/sshd_config", "notes.txt"]) writeFileSync(join(tree, file), "x\n");
  });
  afterEach(() => rmSync(tree, { recursive: true, force: true }));

  it("reads the project's view, and names the file and line of a bad one", () => {
    const spec = parseHostView(readFileSync(HOST_VIEW_FILE, "utf8"), HOST_VIEW_FILE);
    assert.ok(spec.show.some(({ dir, names }) => dir === "/" && names.includes("usr") && !names.includes("home")));
    assert.ok(spec.hide.includes("/etc/ssl/private"));
    assert.throws(() => parseHostView("show / usr\nreveal /home\n", "view.txt"), /view\.txt:2: unknown line "reveal"/);
    assert.throws(() => parseHostView("hide etc/shadow\n", "view.txt"), /view\.txt:1: "hide" takes absolute paths, not "etc\/shadow"/);
    assert.throws(() => parseHostView("show usr bin\n", "view.txt"), /view\.txt:1: "show" needs an absolute directory/);
    assert.throws(() => parseHostView("show / usr/bin\n", "view.txt"), /view\.txt:1: a name to show is an entry of \//);
  });

  it("hides every entry a show line leaves out, but not the way to a private dir; globs; the caller's paths, outermost only", () => {
    const spec = parseHostView(`show ${tree} usr etc var\nshow ${tree}/var/lib dpkg\nhide ${tree}/etc/ssh/ssh_host_*_key ${tree}/etc/ssl/private ${tree}/nothing/here\n`, "view.txt");
    const paths = hiddenPaths(spec, [`${tree}/var/lib/cni`], [`${tree}/usr/bin`, `${tree}/home/alice`, "/"]);
    assert.deepEqual(
      paths,
      [
        `${tree}/etc/ssh/ssh_host_ed25519_key`,
        `${tree}/etc/ssh/ssh_host_rsa_key`,
        `${tree}/etc/ssl/private`,
        `${tree}/home`, // its alice, named by the caller, is inside it
        `${tree}/notes.txt`,
        `${tree}/srv`,
        `${tree}/usr/bin`,
        `${tree}/var/lib/postgresql`, // cni is a private dir's; dpkg shows
      ].sort(),
    );
  });

  it("archives whiteouts GNU tar extracts as 0/0 devices, the host's folder modes, shadow without hashes, an opaque /root", () => {
    const spec = parseHostView(`show ${tree} usr etc var\nhide ${tree}/etc/ssl/private\n`, "view.txt");
    const archive = join(tree, "view.tar");
    writeFileSync(archive, hostViewArchive(spec, [], []));
    const out = join(tree, "out");
    mkdirSync(out);
    execFileSync("tar", ["-x", "--xattrs", "--xattrs-include=trusted.*", "--numeric-owner", "-f", archive, "-C", out]);
    for (const hidden of ["home", "srv", "notes.txt", "etc/ssl/private"]) {
      const stat = statSync(join(out, tree, hidden));
      assert.ok(stat.isCharacterDevice() && stat.rdev === 0, `${hidden} is not a whiteout`);
    }
    assert.equal(statSync(join(out, tree, "etc/ssl")).mode & 0o7777, statSync(join(tree, "etc/ssl")).mode & 0o7777);
    const shadow = readFileSync(join(out, "etc/shadow"), "utf8");
    assert.match(shadow, /^root:\*:/m);
    assert.doesNotMatch(shadow, /^[^:]+:\$/m, "a password hash is in the archive");
    assert.equal(statSync(join(out, "etc/shadow")).gid, statSync("/etc/shadow").gid);
    assert.equal(execFileSync("getfattr", ["--only-values", "-n", "trusted.overlay.opaque", join(out, "root")], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }), "y");
  });
});
