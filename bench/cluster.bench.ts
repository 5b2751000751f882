// The embedded cluster's figures: up, one command, a parallel burst, down, and the
// raw floor they are measured against (entering the node's namespaces directly).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { NetnsBackend } from "../runner/backend/netns/driver.ts";
import { readState } from "../runner/host/state.ts";
import { Cluster } from "../runner/cluster/cluster.ts";
import { median, percentile, timeRuns } from "./stats.ts";

const run = promisify(execFile);

export interface Figure {
  name: string;
  medianMs: number;
  p90Ms: number;
  runs: number;
  target?: string;
  met?: boolean;
  /** "x" for ratios, "/min" for rates; milliseconds otherwise. */
  unit?: "ms" | "x" | "/min" | "MB";
}

function figure(name: string, samples: number[], target?: { limitMs: number; text: string }): Figure {
  const medianMs = median(samples);
  return { name, medianMs, p90Ms: percentile(samples, 90), runs: samples.length, target: target?.text, met: target ? medianMs <= target.limitMs : undefined };
}

export async function benchCluster(options: { clusterRuns: number; commandRuns: number }): Promise<Figure[]> {
  const backend = new NetnsBackend();
  const ups: number[] = [];
  const downs: number[] = [];
  const floor: number[] = [];
  const single: number[] = [];
  let shellFloor: number[] = [];
  let burst: number[] = [];
  for (let i = 0; i < options.clusterRuns; i++) {
    const name = `bench${i}`;
    let started = performance.now();
    const cluster = await Cluster.up({ backend, name });
    ups.push(performance.now() - started);
    if (i === 0) {
      const node1 = cluster.node("node1");
      const pid = String(readState(name)!.nodes.node1!.pid);
      await timeRuns(20, () => node1.$`true`); // warm-up: JIT, SSH channel paths
      await timeRuns(20, () => run("nsenter", ["-t", pid, "-a", "true"]));
      // Interleaved, so that both see the same machine load.
      for (let j = 0; j < options.commandRuns; j++) {
        single.push(...(await timeRuns(1, () => node1.$`true`)));
        floor.push(...(await timeRuns(1, () => run("nsenter", ["-t", pid, "-a", "true"]))));
      }
      shellFloor = await shellLoopFloor(pid, options.commandRuns);
      burst = await timeRuns(20, () => Promise.all(Array.from({ length: 100 }, (_, k) => cluster.nodes[k % 3]!.$`true`)));
    }
    started = performance.now();
    await cluster.down();
    downs.push(performance.now() - started);
  }
  const floorMedian = Math.min(median(floor), median(shellFloor));
  return [
    figure("(a) 3-node cluster up, all sshd connected", ups, { limitMs: 300, text: "<= 300 ms" }),
    figure("(b) one `true` over an open connection", single, { limitMs: Math.min(5, 2 * floorMedian), text: `<= 5 ms and <= 2x floor (${(2 * floorMedian).toFixed(2)} ms)` }),
    figure("(c) 100 commands over 3 nodes in parallel", burst),
    figure("(d) cluster down", downs, { limitMs: 100, text: "<= 100 ms" }),
    figure("raw floor: nsenter -t PID -a true, from Node", floor),
    figure("raw floor: nsenter -t PID -a true, in a shell loop", shellFloor),
  ];
}

/** Per-command cost of nsenter without Node's spawn overhead: a shell loop, timed in chunks of 10. */
async function shellLoopFloor(pid: string, runs: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs / 10; i++) {
    const started = performance.now();
    await run("sh", ["-c", `for i in 1 2 3 4 5 6 7 8 9 10; do nsenter -t ${pid} -a true; done`]);
    samples.push((performance.now() - started) / 10);
  }
  return samples;
}
