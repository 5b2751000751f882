import { cpSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "../../errors.ts";
import { GRADEBOOK_CSV, GRADEBOOK_JSON, gradebookCsv, mergeGradebooks, readGradebook } from "../../grade/gradebook.ts";
import { gradebookJunit } from "../../grade/gradebook-junit.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";

export const gradebook: CliCommand = {
  usage: [
    "labbook gradebook merge <shard-dir|gradebook.json>... [--out DIR]",
    "  joins the gradebooks of `labbook grade --shard i/n` runs into one (default grades/): gradebook.csv,",
    "  gradebook.json and junit.xml, and copies each shard's students/ folders next to it",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs("gradebook", argv, { out: { type: "string", short: "o" } });
    const [action, ...sources] = positionals;
    if (action !== "merge" || sources.length === 0) throw new UsageError(`usage: ${this.usage.split("\n")[0]}`);
    const books = sources.map((source) => ({ source, book: readGradebook(source) }));
    const merged = mergeGradebooks(books);
    const outDir = resolve(values.out ?? "grades");
    mkdirSync(outDir, { recursive: true });
    for (const { source } of books) {
      const dir = resolve(source.endsWith(".json") ? dirname(source) : source);
      const students = join(dir, "students");
      if (dir !== outDir && existsSync(students)) cpSync(students, join(outDir, "students"), { recursive: true });
    }
    writeFileSync(join(outDir, GRADEBOOK_JSON), `${JSON.stringify(merged, null, 1)}\n`);
    writeFileSync(join(outDir, GRADEBOOK_CSV), gradebookCsv(merged));
    writeFileSync(join(outDir, "junit.xml"), gradebookJunit(merged));
    process.stdout.write(`merged ${books.length} gradebooks, ${merged.students.length} students: wrote ${join(outDir, GRADEBOOK_CSV)}, ${join(outDir, GRADEBOOK_JSON)}, ${join(outDir, "junit.xml")}\n`);
    return 0;
  },
};
