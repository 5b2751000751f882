// What every backend's `down --all` and `status` share: finding its clusters (by state on disk, and by
// the marker its processes carry, which covers a crash before any state was written) and going over them.
import { existsSync, rmSync } from "node:fs";
import { setTimeout } from "node:timers/promises";
import { killOwned, markerOf, processesMarked } from "../host/procfs.ts";
import type { HolderRecord } from "../host/state.ts";
import type { ClusterStatus, DownReport } from "./types.ts";

/** Clusters listed on disk, plus those named by the markers (`<prefix><name>`) of processes still running. */
export function clustersFound(listed: string[], markerPrefix: string): string[] {
  const names = new Set(listed);
  for (const proc of processesMarked((m) => m.startsWith(markerPrefix))) {
    const marker = markerOf(proc.pid);
    if (marker) names.add(marker.slice(markerPrefix.length));
  }
  return [...names];
}

/** Takes each cluster down in turn; one report for all. */
export async function downEach(names: Iterable<string>, down: (name: string) => Promise<DownReport>): Promise<DownReport> {
  const report: DownReport = { clusters: [], killed: [] };
  for (const name of names) {
    const one = await down(name);
    report.clusters.push(...one.clusters);
    report.killed.push(...one.killed);
  }
  return report;
}

export async function statusesOf(names: string[], statusOf: (name: string) => Promise<ClusterStatus | undefined>): Promise<ClusterStatus[]> {
  const statuses = await Promise.all(names.map(statusOf));
  return statuses.filter((s): s is ClusterStatus => s !== undefined);
}

const LATE_LOOKS = 5;
const LATE_LOOK_MS = 20;

/**
 * Ends a cluster: its holders' PID 1s first (the kernel then kills everything inside, and each unshare
 * parent, still alive, reaps its child at once), then the unshare parents and any process still carrying
 * the cluster's marker (a crash between spawning a holder and recording it), then its directory.
 */
export async function takeDown(name: string, holders: HolderRecord[], marker: string, dir: string): Promise<DownReport> {
  const killed = await killOwned(holders);
  killed.push(...(await killOwned([...holders.map((h) => h.unshare), ...processesMarked((m) => m === marker)])));
  // A process an `up` was starting when it was killed (-9) can still be between fork and exec: it carries
  // the marker only from its exec on, so the look above can miss it (1 in about 20 tries of the kill -9
  // test). Look again, shortly after, until a look finds none.
  for (let look = 0; look < LATE_LOOKS; look++) {
    await setTimeout(LATE_LOOK_MS);
    const late = processesMarked((m) => m === marker);
    if (late.length === 0) break;
    killed.push(...(await killOwned(late)));
  }
  const existed = existsSync(dir);
  rmSync(dir, { recursive: true, force: true });
  return { clusters: existed || killed.length > 0 ? [name] : [], killed };
}

/** A cluster directory without a readable state: the leftover of a crash, shown as down so `down --all` takes it. */
export function leftoverStatus(name: string, backend: string, dir: string): ClusterStatus | undefined {
  return existsSync(dir) ? { name, backend, state: "down", createdAt: "", nodes: [] } : undefined;
}

/** The part of a backend that only needs to know its clusters' names, statuses and how to take one down. */
export abstract class SweepingBackend {
  /** The clusters with state on disk. */
  private readonly clusterNames: () => string[];
  /** What every process of this backend's clusters carries: `<prefix><cluster name>`. */
  private readonly markerPrefix: () => string;

  constructor(clusterNames: () => string[], markerPrefix: () => string) {
    this.clusterNames = clusterNames;
    this.markerPrefix = markerPrefix;
  }

  protected abstract statusOf(name: string): Promise<ClusterStatus | undefined>;

  /** Runs the rest of an `up`; if it fails, nothing of the half-built cluster stays. */
  protected async upOrDown<T>(name: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      await this.down(name).catch(() => {});
      throw error;
    }
  }
  abstract down(name: string): Promise<DownReport>;

  async downAll(): Promise<DownReport> {
    return downEach(clustersFound(this.clusterNames(), this.markerPrefix()), (name) => this.down(name));
  }

  async list(): Promise<ClusterStatus[]> {
    return statusesOf(this.clusterNames(), (name) => this.statusOf(name));
  }
}
