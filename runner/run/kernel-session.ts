// A kernel for one notebook run, with the control the runner needs: a per-cell timeout
// (SIGINT first, then kill and restart), restarts after a death, and no silently
// skipped cell after a failure (tslab aborts requests for 200 ms after an error).
import { KernelClient, KernelDiedError, type KernelOptions } from "../kernel/client.ts";
import type { Message } from "../kernel/wire.ts";
import type { CellExecution, CellSession } from "./cell-session.ts";

/** tslab's abort window after a failed cell is 200 ms; wait a little longer. */
const ABORT_WINDOW_MS = 250;
/** A cell the kernel keeps aborting is reported as failed after this many tries, never as run. */
const MAX_ATTEMPTS = 3;
/** After SIGINT, how long the kernel gets to answer before it is killed. */
const INTERRUPT_GRACE_MS = 3000;

export class KernelSession implements CellSession {
  private kernel?: KernelClient;
  private lastFailedAt = 0;

  /** `prestarted`: a kernel started ahead with these options (kernel-handoff.ts); if it failed, a new one starts. */
  private readonly options: KernelOptions;
  private prestarted?: Promise<KernelClient>;

  constructor(options: KernelOptions, prestarted?: Promise<KernelClient>) {
    this.options = options;
    this.prestarted = prestarted;
  }

  /** Starts the kernel now, e.g. while the cluster comes up: tslab needs about 2 s to warm. */
  async start(): Promise<void> {
    await this.ensureKernel();
  }

  private async ensureKernel(): Promise<KernelClient> {
    const adopted = this.prestarted && (await this.prestarted.catch(() => undefined));
    this.prestarted = undefined;
    if (adopted) this.kernel = adopted;
    if (!this.kernel?.alive) this.kernel = await KernelClient.start(this.options);
    return this.kernel;
  }

  async execute(code: string, timeoutMs: number, onOutput: (message: Message) => void, attempt = 1): Promise<CellExecution> {
    const kernel = await this.ensureKernel();
    const sinceFailure = Date.now() - this.lastFailedAt;
    if (sinceFailure < ABORT_WINDOW_MS) await sleep(ABORT_WINDOW_MS - sinceFailure);
    const result = await this.executeWithTimeout(kernel, code, timeoutMs, onOutput);
    if (result.kind === "replied" && result.reply.status === "abort" && attempt < MAX_ATTEMPTS) {
      // Aborted without running: the window was longer than expected. Again, after it.
      await sleep(ABORT_WINDOW_MS);
      return this.execute(code, timeoutMs, onOutput, attempt + 1);
    }
    if (result.kind !== "replied" || result.reply.status !== "ok") this.lastFailedAt = Date.now();
    return result;
  }

  private async executeWithTimeout(kernel: KernelClient, code: string, timeoutMs: number, onOutput: (message: Message) => void): Promise<CellExecution> {
    const running = kernel.execute(code, onOutput).then(
      (reply): CellExecution => ({ kind: "replied", reply, interrupted: false }),
      (error: unknown): CellExecution => {
        if (error instanceof KernelDiedError) return { kind: "died", error };
        throw error;
      },
    );
    const first = await within(running, timeoutMs);
    if (first) return first;
    kernel.interrupt();
    const afterInterrupt = await within(running, INTERRUPT_GRACE_MS);
    if (afterInterrupt?.kind === "replied") return { kind: "timed-out", restarted: false };
    // No answer to SIGINT (a busy loop inside a timer cannot be interrupted): a new kernel.
    kernel.kill();
    await kernel.exited;
    await running.catch(() => undefined);
    return { kind: "timed-out", restarted: true };
  }

  async close(): Promise<void> {
    await this.kernel?.shutdown();
  }

  /** For Ctrl-C: no politeness, the run is ending. */
  kill(): void {
    this.kernel?.kill();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The promise's value, or undefined if it takes longer than `ms` (the timer is cleared either way). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
