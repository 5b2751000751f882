// How much slower than a real machine the cluster's nodes run: the labs' timing windows (a check's `within`,
// a capture's seconds, a command's own `--timeout=`) are written for real machines and namespaces, and VMs under
// software emulation (TCG: every guest instruction translated) take several times longer for the same step.
// `labbook run` and `labbook notebook` set LABBOOK_TIME_SCALE for their kernels; a kernel Jupyter starts by itself
// (nbconvert, a JupyterLab of the user's) asks the backend it runs on (the Vagrant backend's `timeScale()`).
import { getBackend } from "../backend/registry.ts";

export const TIME_SCALE_VARIABLE = "LABBOOK_TIME_SCALE";

/** The backend's own scale, by backend name: asked once per process (the Vagrant backend looks for /dev/kvm). */
const backendScales = new Map<string, number>();

function backendScale(): number {
  const name = process.env.LABBOOK_BACKEND ?? "";
  let scale = backendScales.get(name);
  if (scale === undefined) {
    try {
      scale = getBackend(name || undefined).timeScale?.() ?? 1;
    } catch {
      scale = 1; // an unknown backend: the cluster's own start says so, by name
    }
    backendScales.set(name, scale);
  }
  return scale;
}

export function timeScale(): number {
  const set = process.env[TIME_SCALE_VARIABLE];
  if (set === undefined) return backendScale();
  const value = Number(set);
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
