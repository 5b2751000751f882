// ---
// jupyter:
//   kernelspec:
//     display_name: TypeScript (labbook)
//     language: typescript
//     name: labbook-tslab
// ---

// %% [markdown]
// # Lab NN: the title students see
//
// One or two paragraphs: what this lab builds, and which part of the lesson it shows. Each section below
// is a markdown cell (comment lines under `// %% [markdown]`), then a step, then a check.
//
// To start a lab of your own from this one, see labs/README.md ("Writing a lab").

// %% labbook={"id": "setup", "role": "setup"}
// Connect to the cluster and name the nodes
import { cluster, check, reaches } from "labbook";
import { addressesOf } from "./helpers.js";

const c = await cluster({ fresh: true });
const [node1, node2] = [c.node("node1"), c.node("node2")];

// %% [markdown]
// ## 1. A step and its check
//
// A step changes the cluster and shows what it did. A check asserts what must now be true: its badge is
// green or red in Jupyter, and `labbook run` counts it.

// %% labbook={"id": "bridge", "role": "step"}
// A bridge interface with an address on node1
await node1.$`ip link add lab0 type bridge`;
await node1.$`ip addr add 10.99.0.1/24 dev lab0`;
await node1.$`ip link set lab0 up`;
console.log(await addressesOf(node1, "lab0"));

// %% labbook={"id": "check-bridge", "role": "check"}
// Check: the address is there, and node1 still reaches node2
await check("lab0 has 10.99.0.1/24", async () => {
  const addresses = await addressesOf(node1, "lab0");
  if (!addresses.includes("10.99.0.1/24")) throw new Error(`lab0 has ${addresses.join(", ") || "no address"}`);
  return addresses.join(", ");
});
await check("node1 reaches node2", () => reaches(node1, node2.ip));

// %% [markdown]
// ## Exercise
//
// Give node2 a bridge interface `lab0` with the address `10.99.0.2/24`.

// %% labbook={"id": "exercise-bridge", "role": "exercise", "points": 1}
// Your turn: lab0 on node2, with 10.99.0.2/24
// await node2.$`...`;

// %% labbook={"id": "solution-bridge", "role": "solution", "points": 1}
// Solution
await node2.$`ip link add lab0 type bridge`;
await node2.$`ip addr add 10.99.0.2/24 dev lab0`;
await node2.$`ip link set lab0 up`;

// %% [raw] labbook={"id": "grader-setup", "role": "grader-setup"}
// // Grader setup: when grading, the hidden checks run in a fresh process, after every other cell, on
// // the cluster the student's cells left; this cell gives them what they need (and is skipped otherwise).
// import { cluster, check } from "labbook";
// import { addressesOf } from "./helpers.js";
// const c = await cluster();
// const node2 = c.node("node2");

// %% labbook={"id": "hidden-bridge", "role": "hidden-check", "hint": "node2 needs an interface lab0 with 10.99.0.2/24."}
// Hidden check: students see only its hint
await check("node2's lab0 has 10.99.0.2/24", async () => {
  const addresses = await addressesOf(node2, "lab0");
  if (!addresses.includes("10.99.0.2/24")) throw new Error(`lab0 on node2 has ${addresses.join(", ") || "no address"}`);
  return addresses.join(", ");
}, { points: 1 });

// %% [markdown]
// ## What you built
//
// A sentence or two that ties the lab back to the lesson.
