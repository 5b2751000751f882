import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

/** Writes one report file, creating the output directory on first use; resolves with its path. */
export async function writeReportFile(outDir: string, fileName: string, content: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, fileName);
  await writeFile(file, content);
  return file;
}
