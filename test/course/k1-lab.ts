// The lab a new instructor writes from the template, kept outside the checkout: node2 must reach a web server
// on node1's bridge. Its teardown stops that server, and its hidden check asks that server, so it shows both
// the order (hidden checks before teardown, in every mode) and the defence against a student who stands in for
// the server (grader-setup restarts it; the check also reads the server's own log). It offers 3 variants: the
// server's port. (Later cells write \`port: port\`, as a lab for a plain tslab kernel must: labbook's launcher
// fixes tslab's "port is not defined" for a shorthand \`{ port }\`, see docs/writing-labs.md.)
export const K1_PORTS = [8080, 8081, 8082];

export const K1_SOURCE = `// ---
// jupyter:
//   kernelspec:
//     display_name: TypeScript (labbook)
//     language: typescript
//     name: labbook-tslab
//   labbook:
//     variants: 3
// ---

// %% [markdown]
// # K1: a route to a server

// %% labbook={"id": "setup", "role": "setup"}
// node1 serves a page on its bridge lab0, at 10.99.0.1, on your variant's port
import { cluster, check, reaches, hasRoute, pickBySeed } from "labbook";
const c = await cluster({ fresh: true });
const [node1, node2] = [c.node("node1"), c.node("node2")];
const port = pickBySeed(${JSON.stringify(K1_PORTS)}, "k1-port");
const serve = \`echo $$ > /tmp/k1-web.pid; exec python3 -m http.server \${port} --bind 10.99.0.1 --directory /tmp > /tmp/k1-web.log 2>&1\`;
await node1.$\`ip link add lab0 type bridge && ip addr add 10.99.0.1/24 dev lab0 && ip link set lab0 up\`;
await node1.$\`setsid -f bash -c \${serve}\`;
console.log(\`node1 serves on 10.99.0.1:\${port}\`);
await check("node1 serves the page", () => reaches(node1, "10.99.0.1", { port, http: "/" }), { within: 5000 });

// %% [markdown]
// ## Exercise
// Make node2 reach 10.99.0.0/24 through node1.

// %% labbook={"id": "exercise-route", "role": "exercise", "points": 3}
// Your turn: a route on node2 to 10.99.0.0/24 via node1

// %% labbook={"id": "solution-route", "role": "solution"}
await node2.$\`ip route add 10.99.0.0/24 via \${node1.ip}\`;

// %% labbook={"id": "step-look", "role": "step"}
// The route table node2 has now
console.log((await node2.$\`ip route\`).stdout);

// %% labbook={"id": "check-page", "role": "check"}
// Check: node2 gets the page
await check("node2 gets node1's page", () => reaches(node2, "10.99.0.1", { port: port, http: "/" }), { within: 3000 });

// %% [raw] labbook={"id": "grader-setup", "role": "grader-setup"}
// import { cluster, check, reaches, hasRoute, pickBySeed } from "labbook";
// const c = await cluster();
// const [node1, node2] = [c.node("node1"), c.node("node2")];
// const port = pickBySeed(${JSON.stringify(K1_PORTS)}, "k1-port");
// // The student was root on node1 too: the server is started again, as the lab started it, with a fresh log.
// await node1.$({ nothrow: true })\`kill $(cat /tmp/k1-web.pid)\`;
// const serve = \`echo $$ > /tmp/k1-web.pid; exec python3 -m http.server \${port} --bind 10.99.0.1 --directory /tmp > /tmp/k1-web.log 2>&1\`;
// await node1.$\`setsid -f bash -c \${serve}\`;
// await check("the grader's server is up", () => reaches(node1, "10.99.0.1", { port, http: "/" }), { within: 5000 });

// %% labbook={"id": "hidden-k1", "role": "hidden-check", "hint": "node2 needs a route to 10.99.0.0/24 through node1."}
await check("node2 routes 10.99.0.0/24 via node1", () => hasRoute(node2, "10.99.0.0/24", { via: node1.ip }), { points: 1 });
await check("node1's server answers node2, and saw it", async () => {
  const answer = await reaches(node2, "10.99.0.1", { port: port, http: "/" });
  const log = (await node1.$\`cat /tmp/k1-web.log\`).stdout;
  if (!log.includes(\`\${node2.ip} - - \`)) throw new Error("node1's server saw no request from node2");
  return answer;
}, { points: 2, within: 3000 });

// %% labbook={"id": "teardown", "role": "teardown"}
// Stop node1's server
await c.node("node1").$({ nothrow: true })\`kill $(cat /tmp/k1-web.pid)\`;
`;
