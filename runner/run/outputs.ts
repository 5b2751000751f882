// Collects one execution's IOPub messages into nbformat outputs, and reads back the checks.
import type { Message } from "../kernel/wire.ts";
import { CHECK_MIME, type Output } from "../notebook/types.ts";
import type { CheckOutcome } from "../notebook/results.ts";

/**
 * Output a cell may keep in the executed notebook. A cell that prints 50 MB (a student's loop)
 * would otherwise make a notebook no browser opens and a report no CI keeps; checks are still read.
 */
export const MAX_CELL_OUTPUT_BYTES = 2 * 1024 * 1024;

export class OutputCollector {
  readonly outputs: Output[] = [];
  readonly checks: CheckOutcome[] = [];
  /** Everything the cell wrote to stderr: tslab's only report of an error (its tail, if huge). */
  stderr = "";
  private kept = 0;
  private dropped = 0;
  /** The one output that says how much was dropped, once something was. */
  private dropNote: { output_type: "stream"; name: "stderr"; text: string } | undefined;

  private readonly onCheck?: (check: CheckOutcome) => void;

  constructor(onCheck?: (check: CheckOutcome) => void) {
    this.onCheck = onCheck;
  }

  /** Whether `bytes` more fit; what does not is counted in the drop note. */
  private fits(bytes: number): boolean {
    if (this.kept + bytes <= MAX_CELL_OUTPUT_BYTES) {
      this.kept += bytes;
      return true;
    }
    this.dropped += bytes;
    if (!this.dropNote) {
      this.dropNote = { output_type: "stream", name: "stderr", text: "" };
      this.outputs.push(this.dropNote);
    }
    this.dropNote.text = `[labbook: ${this.dropped} more bytes of output were dropped; a cell keeps at most ${MAX_CELL_OUTPUT_BYTES} bytes]\n`;
    return false;
  }

  add(message: Message): void {
    const content = message.content as Record<string, unknown>;
    switch (message.header.msg_type) {
      case "stream": {
        const name = content.name === "stderr" ? "stderr" : "stdout";
        const text = String(content.text ?? "");
        if (name === "stderr") this.stderr = (this.stderr + text).slice(-MAX_CELL_OUTPUT_BYTES);
        if (!this.fits(text.length)) break;
        const last = this.outputs.at(-1);
        // Consecutive writes to one stream are one output, as Jupyter shows them.
        if (last?.output_type === "stream" && last.name === name && last !== this.dropNote) last.text = String(last.text) + text;
        else this.outputs.push({ output_type: "stream", name, text });
        break;
      }
      case "display_data":
      case "execute_result": {
        const data = (content.data ?? {}) as Record<string, unknown>;
        const metadata = (content.metadata ?? {}) as Record<string, unknown>;
        const check = data[CHECK_MIME] as CheckOutcome | undefined;
        if (check && typeof check.name === "string" && typeof check.passed === "boolean") {
          this.checks.push(check);
          this.onCheck?.(check);
        }
        if (!this.fits(JSON.stringify(data).length)) break;
        this.outputs.push(
          message.header.msg_type === "display_data"
            ? { output_type: "display_data", data, metadata }
            : { output_type: "execute_result", data, metadata, execution_count: (content.execution_count as number | null) ?? null },
        );
        break;
      }
      case "error":
        this.outputs.push({ output_type: "error", ename: String(content.ename), evalue: String(content.evalue), traceback: (content.traceback as string[]) ?? [] });
        break;
      default:
      // status, execute_input, clear_output...: not part of the saved notebook
    }
  }
}
