// Per-student variants: a lab that offers N of them (metadata.labbook.variants: N) gets, for each student, the
// key "v1".."vN" chosen by hash(course secret, lab id, student id). The key is the run's seed (LABBOOK_SEED), so
// the lab's own pickBySeed() choices (lab 08's fault, a port, a subnet) follow it. Students with the same key get
// the same lab, so grading runs the reference once per key in use, not once per student. The secret is the course
// file's (labbook.yaml `secret:`); without it every student gets the class-wide seed. How many variants a lab
// offers is the notebook's to say (notebook/variants.ts), read the same way by `labbook run -p variant`.
import { createHmac } from "node:crypto";

/** The student's variant key of the lab, "v1".."v<count>". */
export function variantKey(secret: string, lab: string, student: string, count: number): string {
  const digest = createHmac("sha256", secret).update(`${lab}\u0000${student}`).digest();
  return `v${(digest.readUInt32BE(0) % count) + 1}`;
}
