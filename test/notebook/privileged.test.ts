// metadata.labbook.privileged: only a lab's own declaration makes its nodes root of the machine; a bad
// one is refused when the notebook is read, and a submission can never declare it for itself.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { studentNotebook } from "../../runner/grade/assign.ts";
import { gradedNotebook } from "../../runner/grade/graded-notebook.ts";
import { planLab } from "../../runner/grade/lab-plan.ts";
import { readSubmission } from "../../runner/grade/submission.ts";
import { privilegedReason } from "../../runner/notebook/privileged.ts";
import { NotebookError, readNotebook } from "../../runner/notebook/read.ts";
import { LAB_02 } from "../grade/submissions.ts";
import { notebookOf, writeRaw } from "../helpers/notebooks.ts";

const LAB_10 = fileURLToPath(new URL("../../labs/10-glusterfs/10-glusterfs.ipynb", import.meta.url));

describe("privileged notebooks", () => {
  it("takes a lab's reason, and fences every other lab", () => {
    assert.match(privilegedReason(readNotebook(LAB_10), LAB_10) ?? "", /trusted\.\* extended attributes/);
    assert.equal(privilegedReason(readNotebook(LAB_02), LAB_02), undefined);
  });

  it("refuses a declaration that does not say why, naming the file", () => {
    for (const privileged of [true, "", "  ", 1, ["GlusterFS"]]) {
      const path = writeRaw("privileged.ipynb", JSON.stringify({ ...notebookOf([{ id: "a", source: "1" }]), metadata: { labbook: { privileged } } }));
      assert.throws(
        () => readNotebook(path),
        (error: unknown) => error instanceof NotebookError && error.exitCode === 2 && error.message.startsWith(`${path}: metadata.labbook.privileged must say why`),
        `accepted ${JSON.stringify(privileged)}`,
      );
    }
  });

  it("grades with the lab's declaration, never a submission's", () => {
    const fenced = planLab(LAB_02);
    const tampered = structuredClone(studentNotebook(fenced));
    tampered.metadata.labbook = { ...(tampered.metadata.labbook as object), privileged: "I would like root, please" };
    const path = writeRaw("tampered.ipynb", JSON.stringify(tampered));
    const graded = gradedNotebook(fenced, readSubmission(path, fenced), 60);
    assert.equal(privilegedReason(graded, path), undefined, "a submission made its nodes privileged");

    const gluster = planLab(LAB_10);
    const submission = readSubmission(writeRaw("gluster.ipynb", JSON.stringify(studentNotebook(gluster))), gluster);
    assert.equal(privilegedReason(gradedNotebook(gluster, submission, 60), "graded"), privilegedReason(gluster.notebook, LAB_10));
  });
});
