// npm run bench: prints figures (medians over several runs). Not a test: nothing here
// fails the build; a missed target is printed as MISS for the reader to judge.
import { NetnsBackend } from "../runner/backend/netns/driver.ts";
import { benchCluster, type Figure } from "./cluster.bench.ts";
import { benchGrade } from "./grade.bench.ts";
import { benchKubernetes, benchKubernetesBuild } from "./kubernetes.bench.ts";
import { benchLabs } from "./labs.bench.ts";
import { benchNotebook } from "./notebook.bench.ts";
import { benchVagrant } from "./vagrant.bench.ts";

process.env.LABBOOK_STATE_DIR ??= "/run/labbook-bench";

const quick = process.argv.includes("--quick");
// --only cluster,grade runs some sections: grading 100 submissions alone takes minutes.
const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");
const wanted = (section: string) => !only || only.includes(section);
// VMs under software emulation take minutes: only when asked for by name.
const wantedByName = (section: string) => only?.includes(section) === true;
const figures: Figure[] = [];
try {
  if (wanted("cluster")) figures.push(...(await benchCluster({ clusterRuns: quick ? 3 : 15, commandRuns: quick ? 50 : 300 })));
  if (wanted("notebook")) figures.push(...(await benchNotebook(quick ? 1 : 3)));
  if (wanted("labs")) figures.push(...(await benchLabs(quick ? 1 : 2)));
  if (wanted("kubernetes")) figures.push(...(await benchKubernetes(quick ? 2 : 5)));
  // Minutes each (a warm and a cold build): only when asked for by name.
  if (wantedByName("kubernetes-build")) figures.push(...(await benchKubernetesBuild()));
  if (wanted("grade")) figures.push(...(await benchGrade(quick ? 10 : 50, quick ? 10 : 50, quick ? 4 : 10)));
  if (wantedByName("vagrant")) figures.push(...(await benchVagrant(quick ? 30 : 200)));
} finally {
  await new NetnsBackend().downAll();
}

const width = Math.max(...figures.map((f) => f.name.length));
process.stdout.write(`labbook bench (${new Date().toISOString()}, ${process.platform} ${process.arch}, node ${process.version})\n\n`);
process.stdout.write(`${"what".padEnd(width)}  ${"median".padStart(10)}  ${"p90".padStart(10)}  runs  target\n`);
for (const f of figures) {
  const verdict = f.met === undefined ? "" : `${f.met ? "met" : "MISS"}: ${f.target}`;
  const unit = f.unit === undefined || f.unit === "ms" ? " ms" : f.unit === "MB" ? " MB" : f.unit;
  process.stdout.write(`${f.name.padEnd(width)}  ${`${f.medianMs.toFixed(2)}${unit}`.padStart(10)}  ${`${f.p90Ms.toFixed(2)}${unit}`.padStart(10)}  ${String(f.runs).padStart(4)}  ${verdict}\n`);
}
