// The machine's used memory (MemTotal − MemAvailable), sampled while some work runs: the load test's and
// the grading bench's peak figures.
import { readFileSync } from "node:fs";

export function usedMemoryMb(): number {
  const info = Object.fromEntries(readFileSync("/proc/meminfo", "utf8").split("\n").filter(Boolean).map((line) => [line.split(":")[0], Number.parseInt(line.split(":")[1]!, 10)]));
  return Math.round((info.MemTotal! - info.MemAvailable!) / 1024);
}

/** Samples used memory every 200 ms while `work` runs; returns its result, the peak and the figure before. */
export async function withPeakMemory<T>(work: () => Promise<T>): Promise<{ result: T; peakMb: number; baseMb: number }> {
  const baseMb = usedMemoryMb();
  let peakMb = baseMb;
  const timer = setInterval(() => (peakMb = Math.max(peakMb, usedMemoryMb())), 200);
  try {
    return { result: await work(), peakMb, baseMb };
  } finally {
    clearInterval(timer);
  }
}
