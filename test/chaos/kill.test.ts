// Chaos (npm run test:chaos): kill -9 labbook at random moments, 20 times from a fixed seed. Half the
// kills hit the runner (`labbook run` or `labbook grade`), half a kernel it started. Then 6 more kill
// `labbook up --kubernetes` while containerd, the control plane or kubelet are starting, or once it is
// up (its pods' containers, shims and mounts included). After each, one
// `labbook down --all` must leave nothing: no process labbook started, no cluster state, no mount, no
// named network namespace, no scratch directory, and the host's root network namespace as it was.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cgroupsOf } from "../../runner/host/cgroups.ts";
import { stateRoot } from "../../runner/host/state.ts";
import { childrenOf, isRunning, startTimeOf, type OwnedProcess } from "../../runner/host/procfs.ts";
import { finished, labbook, startLabbook } from "../helpers/cli.ts";
import { snapshotHost } from "../helpers/host-snapshot.ts";
import { seededRandom } from "../helpers/random.ts";

const SEED = 8;
const KILLS = 20;
const KUBERNETES_KILLS = 6;
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const LAB_00 = join(ROOT, "labs/00-hello-cluster/00-hello-cluster.ipynb");
const LAB_02 = join(ROOT, "labs/02-cross-host-routes/02-cross-host-routes.ipynb");

type Target = "runner" | "kernel";
interface Round {
  command: "run" | "grade" | "up-kubernetes";
  target: Target;
  delayMs: number;
}

function rounds(): Round[] {
  const random = seededRandom(SEED);
  const labs: Round[] = Array.from({ length: KILLS }, (_, i) => ({
    command: i % 2 === 0 ? "run" : "grade",
    target: Math.floor(i / 2) % 2 === 0 ? "runner" : "kernel",
    // From the first instants (clusters starting, kernels spawning) to well into the cells.
    delayMs: Math.round(200 + random() * 7000),
  }));
  // Across a Kubernetes start (about 15 s) and past it.
  const kubernetes: Round[] = Array.from({ length: KUBERNETES_KILLS }, () => ({ command: "up-kubernetes", target: "runner", delayMs: Math.round(500 + random() * 17_000) }));
  return [...labs, ...kubernetes];
}

/** Every process below `pid`, with start times, so they can be recognised after they are orphaned. */
function descendants(pid: number): OwnedProcess[] {
  const found: OwnedProcess[] = [];
  for (const child of childrenOf(pid)) {
    const startTime = startTimeOf(child);
    if (startTime) found.push({ pid: child, startTime }, ...descendants(child));
  }
  return found;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
}

/** Scratch directories whose owner is dead: `down --all` must have removed every one. */
function orphanedScratchDirs(): string[] {
  return readdirSync(tmpdir()).filter((name) => {
    const owner = /^labbook-(?:kernel|notes|grade)-(\d+)-/.exec(name)?.[1];
    return owner !== undefined && startTimeOf(Number(owner)) === undefined;
  });
}

function labbookMounts(): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((line) => line.includes(stateRoot()));
}

function namedNetns(): string[] {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" }).split("\n").filter(Boolean);
}

/** kill -9, for a process that may have ended on its own a moment ago. */
function killNow(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

describe("chaos: kill -9 at random moments", function () {
  this.timeout(30 * 60_000);
  const work = mkdtempSync(join(tmpdir(), "labbook-chaos-"));
  after(() => rmSync(work, { recursive: true, force: true }));

  it(`leaves nothing behind after ${KILLS + KUBERNETES_KILLS} kills and one down --all each`, async () => {
    const before = { host: snapshotHost(), netns: namedNetns() };
    const report: string[] = [];
    let leftovers = 0;
    for (const [i, round] of rounds().entries()) {
      const out = join(work, `out-${i}`);
      const args =
        round.command === "run" ? ["run", LAB_00, "--out", out]
        : round.command === "grade" ? ["grade", LAB_02, LAB_02, LAB_02, "--out", out, "--jobs", "2"]
        : ["up", "--kubernetes", "--name", `chaos${i}`];
      const child = startLabbook(args);
      const exit = finished(child);
      const seen = new Map<number, OwnedProcess>();
      const started = Date.now();
      while (Date.now() - started < round.delayMs && child.exitCode === null) {
        for (const p of descendants(child.pid!)) seen.set(p.pid, p);
        await sleep(50);
      }
      let victim = "runner";
      if (round.target === "kernel") {
        const kernel = descendants(child.pid!).find((p) => /launcher\.cjs kernel|cell-runner-child/.test(commandLine(p.pid)));
        if (kernel) {
          victim = "kernel";
          killNow(kernel.pid);
        } else killNow(child.pid!);
      } else killNow(child.pid!);
      // A killed kernel leaves its runner going: it must notice and finish; a killed runner is gone at once.
      const result = await Promise.race([exit, sleep(120_000).then(() => undefined)]);
      if (!result) {
        killNow(child.pid!);
        await exit;
      }
      const down = await labbook(["down", "--all"]);
      assert.equal(down.code, 0, down.stderr);
      // Kernels watch their parent and exit on their own once it is gone; give them a moment.
      const deadline = Date.now() + 5000;
      const alive = () => [...seen.values()].filter(isRunning);
      while (alive().length > 0 && Date.now() < deadline) await sleep(100);
      const left = {
        processes: alive().map((p) => `${p.pid} ${commandLine(p.pid).slice(0, 80)}`),
        clusters: existsSync(stateRoot()) ? readdirSync(stateRoot()) : [],
        mounts: labbookMounts(),
        cgroups: cgroupsOf(stateRoot()),
        netns: namedNetns().filter((n) => !before.netns.includes(n)),
        scratch: orphanedScratchDirs(),
      };
      const count = Object.values(left).reduce((sum, list) => sum + list.length, 0);
      leftovers += count;
      report.push(`${String(i + 1).padStart(2)}. ${round.command} killed (${victim}) at ${(round.delayMs / 1000).toFixed(1)} s, ${seen.size} processes seen: ${count} left${count ? ` ${JSON.stringify(left)}` : ""}`);
    }
    process.stdout.write(`\n${report.map((line) => `      ${line}`).join("\n")}\n      chaos: ${KILLS + KUBERNETES_KILLS} kills, ${leftovers} leftovers\n`);
    assert.equal(leftovers, 0);
    assert.deepEqual(snapshotHost(), before.host);
  });
});
