import assert from "node:assert/strict";
import { SerializingReporter } from "../../runner/report/serialize.ts";
import type { Reporter } from "../../runner/report/types.ts";
import type { NotebookRunResult } from "../../runner/notebook/results.ts";

function recorder(log: string[]): Reporter {
  return {
    onNotebookStart: (info) => log.push(`start ${info.notebook}`),
    onCellStart: (cell) => log.push(`cell ${cell.notebook} ${cell.id}`),
    onNotebookEnd: (result) => log.push(`end ${result.notebook}`),
  };
}
const start = (r: Reporter, notebook: string) => r.onNotebookStart!({ notebook, title: notebook, cells: 1, cluster: "c" });
const cell = (r: Reporter, notebook: string, id: string) => r.onCellStart!({ notebook, index: 0, id, role: "step", title: id });
const end = (r: Reporter, notebook: string) => r.onNotebookEnd!({ notebook } as NotebookRunResult);

describe("serializing reporter (labbook run --jobs)", () => {
  it("reports the first notebook live and each other one as a block, never interleaved", () => {
    const log: string[] = [];
    const serializer = new SerializingReporter(recorder(log));
    const [a, b, c] = ["a", "b", "c"].map((n) => serializer.forNotebook(n));
    start(a!, "a");
    start(b!, "b");
    cell(b!, "b", "b1");
    cell(a!, "a", "a1");
    assert.deepEqual(log, ["start a", "cell a a1"], "a is live; b waits");
    start(c!, "c");
    end(c!, "c"); // c finishes before b: it takes the floor next
    end(a!, "a");
    assert.deepEqual(log.slice(2), ["end a", "start c", "end c", "start b", "cell b b1"]);
    end(b!, "b");
    assert.deepEqual(log.slice(-1), ["end b"]);
  });

  it("passes the floor on when a notebook ends without reporting (it could not start)", () => {
    const log: string[] = [];
    const serializer = new SerializingReporter(recorder(log));
    const a = serializer.forNotebook("a");
    const b = serializer.forNotebook("b");
    start(b, "b");
    serializer.finish("a");
    assert.deepEqual(log, ["start b"]);
    void a;
  });
});
