// Several notebooks running at once (labbook run --jobs N) would interleave their lines. Each
// notebook gets a reporter that holds its events back while another notebook has the floor; when
// that one ends, the floor passes to a notebook that has already finished, else to one that has
// started. The first notebook reports live and the others catch up in turn, so the output reads
// as if they had run one after another.
import type { Reporter } from "./types.ts";

type Event = (target: Reporter) => void;

export class SerializingReporter {
  private floor: string | undefined;
  private readonly waiting = new Map<string, { events: Event[]; ended: boolean }>();

  private readonly target: Reporter;

  constructor(target: Reporter) {
    this.target = target;
  }

  /** The reporter one notebook's run talks to. */
  forNotebook(notebook: string): Reporter {
    this.waiting.set(notebook, { events: [], ended: false });
    const emit = (event: Event, ends = false) => this.emit(notebook, event, ends);
    return {
      onNotebookStart: (info) => emit((t) => t.onNotebookStart?.(info)),
      onCellStart: (cell) => emit((t) => t.onCellStart?.(cell)),
      onCheck: (check) => emit((t) => t.onCheck?.(check)),
      onCellEnd: (result) => emit((t) => t.onCellEnd?.(result)),
      onNotebookEnd: (result) => emit((t) => t.onNotebookEnd?.(result), true),
    };
  }

  /** A notebook that failed before it could report anything must still give up its turn. */
  finish(notebook: string): void {
    const entry = this.waiting.get(notebook);
    if (entry && !entry.ended) this.emit(notebook, () => {}, true);
  }

  private emit(notebook: string, event: Event, ends: boolean): void {
    const entry = this.waiting.get(notebook)!;
    entry.events.push(event);
    if (ends) entry.ended = true;
    this.floor ??= notebook;
    this.drain();
  }

  private drain(): void {
    while (this.floor !== undefined) {
      const entry = this.waiting.get(this.floor)!;
      for (const event of entry.events.splice(0)) event(this.target);
      if (!entry.ended) return;
      this.waiting.delete(this.floor);
      // Next: a notebook that already finished, else the one that has said the most, else none yet.
      const pending = [...this.waiting.entries()];
      const next = pending.find(([, e]) => e.ended) ?? pending.find(([, e]) => e.events.length > 0);
      this.floor = next?.[0];
    }
  }
}
