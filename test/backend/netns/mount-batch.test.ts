// mount-batch.pl, which makes a node's mounts in one process: run here in a private mount namespace of
// its own (unshare), so nothing reaches the host's mount table.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MOUNT_BATCH, SYSCALL_NUMBERS } from "../../../runner/backend/netns/driver.ts";

/** Runs the batch, then `after` (a shell command), in one new mount namespace. */
function batch(steps: string[][], after: string, syscalls = SYSCALL_NUMBERS[process.arch] ?? "") {
  const script = `printf '%s' "$STEPS" | perl -e "$MOUNT_BATCH" && ${after}`;
  return spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", script], {
    encoding: "utf8",
    env: { ...process.env, STEPS: steps.map((fields) => `${fields.join("\t")}\n`).join(""), MOUNT_BATCH: readFileSync(MOUNT_BATCH, "utf8"), SYSCALLS: syscalls },
  });
}

describe("mount-batch.pl", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "labbook-mount-batch-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("knows this architecture's numbers for mount, umount2 and pivot_root, the same as the kernel headers'", () => {
    const fromHeaders = execFileSync("perl", ["-e", 'require "syscall.ph"; print join(" ", &SYS_mount, &SYS_umount2, &SYS_pivot_root)'], { encoding: "utf8" });
    assert.equal(SYSCALL_NUMBERS[process.arch], fromHeaders);
  });

  for (const source of ["the driver's table", "syscall.ph"]) {
    it(`mounts, binds read-only, detaches, with the numbers from ${source}`, () => {
      const [a, b, c] = ["a", "b", "c"].map((name) => join(dir, name));
      const result = batch(
        [["mkdir", a!, b!, c!], ["mount", "tmpfs", "labbook-test", a!, "mode=700,nosuid"], ["bind", a!, b!, "ro"], ["mount", "tmpfs", "labbook-test", c!], ["detach", c!]],
        `touch ${a}/written && ! touch ${b}/refused 2>/dev/null && grep -c labbook-test /proc/self/mountinfo && stat -c %a ${a}`,
        source === "syscall.ph" ? "" : undefined,
      );
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(result.stdout.trim().split("\n"), ["2", "700"]); // a and b: c was detached
    });
  }

  it("stops at the first step that fails, naming it, and does not go on", () => {
    const result = batch([["bind", join(dir, "missing"), dir], ["mkdir", join(dir, "after")]], "true");
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, new RegExp(`mount-batch: bind ${join(dir, "missing")} ${dir}: No such file or directory`));
    assert.match(batch([["mount-all"]], "true").stderr, /mount-batch: unknown step "mount-all"/);
    assert.equal(spawnSync("test", ["-e", join(dir, "after")]).status, 1, "a step after the failure ran");
  });
});
