// Fixture notebooks, written from a compact description so each test shows its cells.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Notebook } from "../../runner/notebook/types.ts";

export interface FixtureCell {
  id: string;
  source: string;
  role?: string;
  requires?: string[];
  timeout?: number;
  markdown?: boolean;
  /** More metadata.labbook fields (points, hint, or deliberately wrong values). */
  meta?: Record<string, unknown>;
}

/** Inside the repository: tslab resolves `import ... from "labbook"` by walking up to node_modules. */
export const FIXTURE_ROOT = fileURLToPath(new URL("../../test-output/fixtures/", import.meta.url));

export function notebookOf(cells: FixtureCell[]): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "labbook-tslab", display_name: "TypeScript (labbook)", language: "typescript" } },
    cells: cells.map((c) =>
      c.markdown
        ? { cell_type: "markdown", id: c.id, metadata: {}, source: c.source }
        : {
            cell_type: "code",
            id: c.id,
            metadata: { labbook: { id: c.id, role: c.role ?? "step", ...(c.requires ? { requires: c.requires } : {}), ...(c.timeout ? { timeout: c.timeout } : {}), ...c.meta } },
            source: c.source,
            outputs: [],
            execution_count: null,
          },
    ),
  };
}

export function writeFixture(name: string, cells: FixtureCell[]): string {
  mkdirSync(FIXTURE_ROOT, { recursive: true });
  const dir = mkdtempSync(join(FIXTURE_ROOT, "nb-"));
  const path = join(dir, `${name}.ipynb`);
  writeFileSync(path, JSON.stringify(notebookOf(cells), null, 1));
  return path;
}

export function writeRaw(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "labbook-raw-"));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
