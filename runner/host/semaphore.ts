/** Counts concurrent users of a limited resource; the rest wait in order. */
export class Semaphore {
  private readonly waiting: Array<() => void> = [];

  private available: number;

  constructor(available: number) {
    this.available = available;
  }

  async acquire(): Promise<() => void> {
    if (this.available > 0) this.available--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.available++;
    };
  }
}
