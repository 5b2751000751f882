// Before a command starts kernels: the warm kernel's snapshot, built now if `npm run build` has not (a fresh
// npm ci, a changed node_modules). Said once; a build that fails only costs speed.
import { ensureKernelSnapshot } from "./snapshot.ts";

let done = false;

export function prepareWarmKernels(onProgress?: (message: string) => void): void {
  if (done) return;
  done = true;
  const result = ensureKernelSnapshot();
  if (result.built) onProgress?.("built the warm kernel's snapshot (.labbook/kernel-snapshot), once");
  else if (result.problem && result.problem !== "being built by another process") onProgress?.(`${result.problem}; kernels start without it`);
}
