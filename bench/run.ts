// npm run bench: prints figures (medians over several runs). Not a test: nothing here
// fails the build; a missed target is printed as MISS for the reader to judge.
import { NetnsBackend } from "../runner/backend/netns/driver.ts";
import { benchCluster, type Figure } from "./cluster.bench.ts";
import { benchLabs } from "./labs.bench.ts";
import { benchNotebook } from "./notebook.bench.ts";

process.env.LABBOOK_STATE_DIR ??= "/run/labbook-bench";

const quick = process.argv.includes("--quick");
const figures: Figure[] = [];
try {
  figures.push(...(await benchCluster({ clusterRuns: quick ? 3 : 15, commandRuns: quick ? 50 : 300 })));
  figures.push(...(await benchNotebook(quick ? 1 : 3)));
  figures.push(...(await benchLabs(quick ? 1 : 2)));
} finally {
  await new NetnsBackend().downAll();
}

const width = Math.max(...figures.map((f) => f.name.length));
process.stdout.write(`labbook bench (${new Date().toISOString()}, ${process.platform} ${process.arch}, node ${process.version})\n\n`);
process.stdout.write(`${"what".padEnd(width)}  ${"median".padStart(10)}  ${"p90".padStart(10)}  runs  target\n`);
for (const f of figures) {
  const verdict = f.met === undefined ? "" : `${f.met ? "met" : "MISS"}: ${f.target}`;
  const unit = f.unit === "x" ? "x" : " ms";
  process.stdout.write(`${f.name.padEnd(width)}  ${`${f.medianMs.toFixed(2)}${unit}`.padStart(10)}  ${`${f.p90Ms.toFixed(2)}${unit}`.padStart(10)}  ${String(f.runs).padStart(4)}  ${verdict}\n`);
}
