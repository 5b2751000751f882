// `labbook kubernetes import`'s reading of an archive: the tags it will allow, or an error that says what
// the file is not. (Importing into a cluster runs in test/grade-job, with the grader's image.)
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dockerArchive } from "../../runner/kubernetes/image-archive.ts";
import { archiveTags } from "../../runner/kubernetes/image-import.ts";

describe("kubernetes import: reading an image archive", () => {
  const dir = mkdtempSync(join(tmpdir(), "labbook-image-import-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("lists the tags of a docker-archive, without docker.io/", () => {
    const file = join(dir, "one.tar");
    writeFileSync(file, dockerArchive({ ref: "course/tool:2", alsoTagged: ["docker.io/course/tool:latest"], layers: [[{ path: "hello", type: "file", mode: 0o644, content: "hi" }]] }));
    assert.deepEqual(archiveTags(file), ["course/tool:2", "course/tool:latest"]);
  });

  it("names the file and the fix when it is no docker-archive", () => {
    const file = join(dir, "notes.txt");
    writeFileSync(file, "not a tar");
    assert.throws(() => archiveTags(file), (error: Error) => error.message.includes(file) && /docker save/.test(error.message));
  });
});
