// Collects one execution's IOPub messages into nbformat outputs, and reads back the checks.
import type { Message } from "../kernel/wire.ts";
import { CHECK_MIME, type Output } from "../notebook/types.ts";
import type { CheckOutcome } from "./results.ts";

export class OutputCollector {
  readonly outputs: Output[] = [];
  readonly checks: CheckOutcome[] = [];
  /** Everything the cell wrote to stderr: tslab's only report of an error. */
  stderr = "";

  constructor(private readonly onCheck?: (check: CheckOutcome) => void) {}

  add(message: Message): void {
    const content = message.content as Record<string, unknown>;
    switch (message.header.msg_type) {
      case "stream": {
        const name = content.name === "stderr" ? "stderr" : "stdout";
        const text = String(content.text ?? "");
        if (name === "stderr") this.stderr += text;
        const last = this.outputs.at(-1);
        // Consecutive writes to one stream are one output, as Jupyter shows them.
        if (last?.output_type === "stream" && last.name === name) last.text = String(last.text) + text;
        else this.outputs.push({ output_type: "stream", name, text });
        break;
      }
      case "display_data":
      case "execute_result": {
        const data = (content.data ?? {}) as Record<string, unknown>;
        const metadata = (content.metadata ?? {}) as Record<string, unknown>;
        this.outputs.push(
          message.header.msg_type === "display_data"
            ? { output_type: "display_data", data, metadata }
            : { output_type: "execute_result", data, metadata, execution_count: (content.execution_count as number | null) ?? null },
        );
        const check = data[CHECK_MIME] as CheckOutcome | undefined;
        if (check && typeof check.name === "string" && typeof check.passed === "boolean") {
          this.checks.push(check);
          this.onCheck?.(check);
        }
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
