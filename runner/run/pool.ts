// Runs of notebooks, several at once: `labbook run --jobs` and `labbook grade` share this.

/** How many workers `jobs` asks for, over `count` items: at least one, never more than there is to do. */
export function poolSize(jobs: number, count: number): number {
  return Math.max(1, Math.min(jobs, count));
}

/**
 * `work` on every item, `jobs` at a time, started in the items' order; the results come in that order.
 * After a throw no item starts, and the first error is thrown once the running ones have ended: a
 * worker left running would outlive the caller's clean-up (its cluster, its kernel).
 */
export async function inPool<T, R>(items: readonly T[], jobs: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === undefined) {
      const index = next++;
      try {
        results[index] = await work(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: poolSize(jobs, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}
