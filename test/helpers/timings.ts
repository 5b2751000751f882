// Seconds each step of a long test took, printed at its end: the VM tests' own figures.
export type Timings = Record<string, number>;

/** Runs `work` and records how long it took under `label`, whether it passed or not. */
export async function timedInto<T>(timings: Timings, label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings[label] = (performance.now() - started) / 1000;
  }
}
