// Ctrl-C (and a polite kill) must not leave a half-built cluster behind:
// the cleanup runs first, then the process exits with the signal's conventional code.
/** The signals labbook cleans up after, and the exit code each conventionally gives (128 + number). */
export const SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

export async function withInterruptCleanup<T>(cleanup: () => Promise<unknown>, work: () => Promise<T>): Promise<T> {
  let cleaning: Promise<unknown> | undefined;
  const handlers = Object.entries(SIGNALS).map(([signal, code]) => {
    const handler = () => {
      if (cleaning) return; // a second Ctrl-C while cleaning up waits for it instead of abandoning it
      process.stderr.write(`\nlabbook: ${signal}, cleaning up...\n`);
      cleaning = cleanup().finally(() => process.exit(code));
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  try {
    return await work();
  } finally {
    if (cleaning) await cleaning; // exits the process
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}
