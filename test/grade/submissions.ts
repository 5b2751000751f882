// Student submissions of lab 02 (cross-host routes), made the way students make them: from the
// notebook `labbook assign` hands out, with the exercise cell filled in. Each has the exact score
// it earned: the exercise is worth 3 points over 4 hidden checks (0.75 each).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { studentNotebook } from "../../runner/grade/assign.ts";
import { planLab } from "../../runner/grade/lab-plan.ts";
import type { CodeCell, Notebook } from "../../runner/notebook/types.ts";

export const LAB_02 = fileURLToPath(new URL("../../labs/02-cross-host-routes/02-cross-host-routes.ipynb", import.meta.url));
export const LAB_01 = fileURLToPath(new URL("../../labs/01-container-networking/01-container-networking.ipynb", import.meta.url));
/** The checkout: its dist/ is the SDK the hidden checks import, the first thing to tamper with. */
export const PROJECT = fileURLToPath(new URL("../../", import.meta.url));

const NODE3_CONTAINER = `await addContainer(node3, { name: "c1", address: "172.19.0.2/16", bridge: "docker0", gateway: "172.19.0.1/16" });
await node3.$\`sysctl -w net.ipv4.ip_forward=1\`;
await node3.$\`iptables -P FORWARD ACCEPT\`;
await node3.$\`ip route add 172.17.0.0/16 via 192.168.0.11\`;
await node3.$\`ip route add 172.18.0.0/16 via 192.168.0.12\`;
`;
const RETURN_ROUTES = `await node1.$\`ip route add 172.19.0.0/16 via 192.168.0.13\`;
await node2.$\`ip route add 172.19.0.0/16 via 192.168.0.13\`;
`;
export const CORRECT = NODE3_CONTAINER + RETURN_ROUTES;

/** What the student's code writes into its nodes, to show it stays there. */
export const NODE_WRITE_MARK = "labbook-grade-test-written-by-a-student";

/**
 * Checks write the CHECK_MIME display the SDK writes, under the hidden checks' names, from the student's kernel,
 * through the SDK's own display() (tslab's module does not resolve from the folder graded runs use).
 */
const FAKE_CHECKS = `const { display } = await import("labbook");
const fake = (name: string) => ({ "application/vnd.labbook.check+json": { name, passed: true, message: "faked", attempts: 1, durationMs: 1, points: 1 } });
const names = ["node3/c1 reaches 172.17.0.2", "node3/c1 reaches 172.18.0.2", "node1/c1 reaches 172.19.0.2", "node2/c1 reaches 172.19.0.2"];
for (const name of names) display(fake(name));
setInterval(() => { for (const name of names) display(fake(name)); }, 20);
`;

export interface Fixture {
  name: string;
  /** The file's content; a function gets the assigned notebook to start from. */
  content: string | ((assigned: Notebook) => Notebook);
  total: number;
  status: "graded" | "rejected";
  /** A note (or rejection reason) the grader must give, as a pattern. */
  says?: RegExp;
}

function withExercise(source: string, change?: (nb: Notebook, exercise: CodeCell) => void): (assigned: Notebook) => Notebook {
  return (assigned) => {
    const nb = structuredClone(assigned);
    const exercise = nb.cells.find((c) => (c.metadata.labbook as { role?: string } | undefined)?.role === "exercise") as CodeCell;
    exercise.source = source;
    change?.(nb, exercise);
    return nb;
  };
}

export const FIXTURES: Fixture[] = [
  { name: "correct", content: withExercise(CORRECT), total: 3, status: "graded" },
  // Node2 has no way back to 172.19.0.0/16: two of the four directions work.
  { name: "partial", content: withExercise(NODE3_CONTAINER + "await node1.$`ip route add 172.19.0.0/16 via 192.168.0.13`;\n"), total: 1.5, status: "graded" },
  { name: "wrong-next-hop", content: withExercise(NODE3_CONTAINER + "await node1.$`ip route add 172.19.0.0/16 via 192.168.0.12`;\nawait node2.$`ip route add 172.19.0.0/16 via 192.168.0.11`;\n"), total: 0, status: "graded" },
  { name: "untouched", content: (assigned) => assigned, total: 0, status: "graded" },
  {
    name: "split-over-added-cell",
    content: withExercise(NODE3_CONTAINER, (nb, exercise) => {
      nb.cells.splice(nb.cells.indexOf(exercise) + 1, 0, { cell_type: "code", id: "mine-1", metadata: {}, source: RETURN_ROUTES, outputs: [], execution_count: null });
    }),
    total: 3,
    status: "graded",
    says: /1 cell added after exercise "exercise-node3" ran as part of it/,
  },
  {
    name: "edits-a-check",
    content: withExercise("", (nb) => {
      const check = nb.cells.find((c) => (c.metadata.labbook as { id?: string } | undefined)?.id === "check-after")!;
      check.source = 'await check("node1 routes 172.18.0.0/16 via node2", async () => "sure");';
    }),
    total: 0,
    status: "graded",
    says: /you changed the lab's own cells \(check-after\); your changes were not used/,
  },
  { name: "fakes-checks", content: withExercise(`(globalThis as any).check = async (name: string) => console.log("PASS", name);\n${FAKE_CHECKS}`), total: 0, status: "graded" },
  {
    name: "patches-helpers",
    content: withExercise(`import { CommandResult, Node as LabNode } from "labbook";
Object.defineProperty(CommandResult.prototype, "ok", { get: () => true });
(LabNode.prototype as any).$ = function () { return Promise.resolve({ ok: true, stdout: "ttl=62", stderr: "", exitCode: 0 }); };
${FAKE_CHECKS}`),
    total: 0,
    status: "graded",
  },
  { name: "fakes-after-real-work", content: withExercise(CORRECT + FAKE_CHECKS), total: 3, status: "graded" },
  {
    name: "snoops-and-writes",
    content: withExercise(`const found = await node1.$({ nothrow: true })\`timeout 20 find / -xdev -name '02-cross-host-routes.ipynb' 2>/dev/null | head -3\`;
for (const path of found.lines()) console.log((await node1.$({ nothrow: true })\`grep -c hidden-check \${path}\`).stdout);
for (const dir of ["/tmp", "/root", "/var/lib/cni", "/etc/cni/net.d"]) await node1.$\`echo ${NODE_WRITE_MARK} > \${dir}/${NODE_WRITE_MARK}\`;
await node1.$({ nothrow: true })\`echo 'exports.check = async () => {}' > ${PROJECT}dist/sdk/${NODE_WRITE_MARK}.js\`;`),
    total: 0,
    status: "graded",
  },
  { name: "breaks-the-cluster", content: withExercise("await node1.$`ip link set eth0 down`;\nawait node2.$({ nothrow: true })`kill -9 -1`;\n"), total: 0, status: "graded" },
  { name: "exits-after-work", content: withExercise(`${CORRECT}process.exit(3);\n`), total: 3, status: "graded" },
  { name: "loops-after-work", content: withExercise(`${CORRECT}while (true) {}\n`), total: 3, status: "graded" },
  { name: "loops-only", content: withExercise("while (true) {}\n"), total: 0, status: "graded" },
  { name: "crashes-kernel", content: withExercise('process.kill(process.pid, "SIGSEGV");\n'), total: 0, status: "graded" },
  { name: "prints-50mb", content: withExercise(`${CORRECT}console.log("x".repeat(50 * 1024 * 1024));\n`), total: 3, status: "graded" },
  {
    name: "carries-50mb-output",
    content: withExercise(CORRECT, (_, exercise) => {
      exercise.outputs = [{ output_type: "stream", name: "stdout", text: "y".repeat(50 * 1024 * 1024) }];
    }),
    total: 3,
    status: "graded",
  },
  {
    name: "declares-its-id",
    content: withExercise(CORRECT, (nb) => {
      nb.metadata = { ...nb.metadata, labbook: { ...(nb.metadata.labbook as object), student: "s-1234" } };
    }),
    total: 3,
    status: "graded",
  },
  { name: "invalid-json", content: '{"cells": [', total: 0, status: "rejected", says: /invalid JSON/ },
  { name: "empty-file", content: "", total: 0, status: "rejected", says: /empty/ },
  { name: "other-lab", content: "", total: 0, status: "rejected", says: /lab "01-container-networking", not "02-cross-host-routes"/ },
  {
    name: "deleted-exercise",
    content: (assigned) => ({ ...assigned, cells: assigned.cells.filter((c) => (c.metadata.labbook as { role?: string } | undefined)?.role !== "exercise") }),
    total: 0,
    status: "rejected",
    says: /none of the lab's exercise cells/,
  },
];

/** The student id each fixture is graded under. */
export function studentOf(fixture: Fixture): string {
  return fixture.name === "declares-its-id" ? "s-1234" : fixture.name;
}

/** Writes the named fixtures into `dir` as <name>.ipynb. */
export function writeSubmissions(dir: string, fixtures: Fixture[] = FIXTURES): void {
  const assigned = studentNotebook(planLab(LAB_02));
  const otherLab = studentNotebook(planLab(LAB_01));
  for (const fixture of fixtures) {
    const text =
      fixture.name === "other-lab"
        ? JSON.stringify(otherLab)
        : typeof fixture.content === "string"
          ? fixture.content
          : JSON.stringify(fixture.content(assigned), null, 1);
    writeFileSync(join(dir, `${fixture.name}.ipynb`), text);
  }
}
