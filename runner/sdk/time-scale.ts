// How much slower than a real machine the cluster's nodes run: the labs' timing windows (a check's `within`,
// a capture's seconds) are written for real machines and namespaces, and VMs under software emulation (TCG:
// every guest instruction translated) take several times longer for the same step. The runner sets
// LABBOOK_TIME_SCALE for the backends that are slower (the Vagrant backend's `timeScale()`); absent, 1.
export const TIME_SCALE_VARIABLE = "LABBOOK_TIME_SCALE";

export function timeScale(): number {
  const value = Number(process.env[TIME_SCALE_VARIABLE]);
  return Number.isFinite(value) && value >= 1 ? value : 1;
}

/** A lab's window of `ms` milliseconds, stretched for slower nodes. */
export function scaled(ms: number): number {
  return ms * timeScale();
}

/**
 * A command's own time limit, as kubectl's `--timeout=` takes it, stretched for slower nodes: "60s" on a real
 * machine, "240s" on VMs under software emulation (where a pod took over a minute to start, 2026-12-03).
 */
export function scaledSeconds(seconds: number): string {
  return `${Math.ceil(seconds * timeScale())}s`;
}
