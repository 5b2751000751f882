// `labbook run` over many notebooks starts the next notebook's kernel while the current one runs, so a
// suite does not wait for each kernel's start in turn: the next notebook adopts the kernel that is ready.
// Only for kernels that need nothing of their cluster to start (not the sandboxed ones, which join their
// cluster's LAN as they start). A kernel nobody adopted is stopped when the run ends or is aborted.
import { rmSync } from "node:fs";
import { KernelClient, type KernelOptions } from "../kernel/client.ts";
import { ownedTempDir } from "../host/temp-dirs.ts";

export interface PrestartedKernel {
  /** The notebook's grader-notes folder, which the kernel's environment names. */
  graderNotes: string;
  kernel: Promise<KernelClient>;
}

export class KernelHandoff {
  private readonly waiting = new Map<number, PrestartedKernel>();
  private readonly claimed = new Set<number>();
  private closed = false;

  /** Starts notebook `index`'s kernel now, unless it has one coming or has started already. */
  prestart(index: number, options: (graderNotes: string) => KernelOptions): void {
    if (this.closed || this.claimed.has(index) || this.waiting.has(index)) return;
    const graderNotes = ownedTempDir("notes");
    const kernel = KernelClient.start(options(graderNotes));
    kernel.catch(() => {}); // its notebook starts a kernel of its own then, and reports that one's error
    this.waiting.set(index, { graderNotes, kernel });
  }

  /** The first of notebooks 0..count-1 that neither began nor has a kernel coming. */
  firstUnstarted(count: number): number | undefined {
    for (let index = 0; index < count; index++) if (!this.claimed.has(index) && !this.waiting.has(index)) return index;
    return undefined;
  }

  /** The kernel started for notebook `index`, if any; after this, none will be. */
  take(index: number): PrestartedKernel | undefined {
    this.claimed.add(index);
    const prestarted = this.waiting.get(index);
    this.waiting.delete(index);
    return prestarted;
  }

  /** Stops a prestarted kernel if it still runs, and removes its notes folder. */
  async discard({ graderNotes, kernel }: PrestartedKernel): Promise<void> {
    const client = await kernel.catch(() => undefined);
    if (client?.alive) {
      client.kill();
      await client.exited;
    }
    rmSync(graderNotes, { recursive: true, force: true });
  }

  /** Stops the kernels no notebook took, and starts no more. */
  async close(): Promise<void> {
    this.closed = true;
    const left = [...this.waiting.values()];
    this.waiting.clear();
    await Promise.all(left.map((prestarted) => this.discard(prestarted)));
  }

  /** For Ctrl-C: no waiting. */
  kill(): void {
    this.closed = true;
    for (const { kernel } of this.waiting.values()) void kernel.then((client) => client.kill(), () => {});
  }
}
