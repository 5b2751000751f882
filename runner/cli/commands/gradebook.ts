import { cpSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "../../errors.ts";
import { EXPORT_FORMATS, exportGradebook, readRoster, type ExportFormat } from "../../grade/export.ts";
import { loadLayers, withFinalScores } from "../../grade/final-scores.ts";
import { mergeGradebooks, readGradebook } from "../../grade/gradebook.ts";
import { unmatchedWarnings, writeGradebookFiles } from "../../grade/gradebook-files.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliCommand } from "../command.ts";

export const gradebook: CliCommand = {
  usage: [
    "labbook gradebook merge <shard-dir|gradebook.json>... [--out DIR]",
    "  joins the gradebooks of `labbook grade --shard i/n` runs into one (default grades/): gradebook.csv,",
    "  gradebook.json and junit.xml, and copies each shard's students/ folders next to it",
    "labbook gradebook export <grades-dir> --format canvas|moodle|csv [--out FILE] [--roster FILE] [--overrides FILE] [--course FILE]",
    "  the final scores (raw, then <grades-dir>/overrides.csv, then the course file's late policy, recomputed now) in",
    "  the column layout the LMS imports (default FILE: <grades-dir>/<lab>-<format>.csv), and a feedback file per",
    "  student named for upload in FILE's -feedback folder. A roster (student,name,canvas_id,sis_user_id,",
    "  sis_login_id,section,id_number,email) gives the LMS's own identifiers. Also rewrites the gradebook's files.",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs("gradebook", argv, {
      out: { type: "string", short: "o" },
      format: { type: "string", short: "f" },
      roster: { type: "string" },
      overrides: { type: "string" },
      course: { type: "string" },
    });
    const [action, ...sources] = positionals;
    const layerFiles = { ...(values.overrides ? { overridesFile: values.overrides } : {}), ...(values.course ? { courseFile: values.course } : {}) };
    if (action === "merge" && sources.length > 0) {
      const books = sources.map((source) => ({ source, book: readGradebook(source) }));
      const merged = mergeGradebooks(books);
      const outDir = resolve(values.out ?? "grades");
      mkdirSync(outDir, { recursive: true });
      for (const { source } of books) {
        const dir = resolve(source.endsWith(".json") ? dirname(source) : source);
        const students = join(dir, "students");
        if (dir !== outDir && existsSync(students)) cpSync(students, join(outDir, "students"), { recursive: true });
      }
      const { written, unmatched } = writeGradebookFiles(outDir, merged, loadLayers(merged, outDir, layerFiles));
      for (const warning of unmatchedWarnings(unmatched)) process.stderr.write(`labbook gradebook: warning: ${warning}\n`);
      process.stdout.write(`merged ${books.length} gradebooks, ${merged.students.length} students: wrote ${written.filter((w) => !w.includes("/students/")).join(", ")}\n`);
      return 0;
    }
    if (action === "export" && sources.length === 1) {
      if (!EXPORT_FORMATS.includes(values.format as ExportFormat)) throw new UsageError(`labbook gradebook export: --format must be one of ${EXPORT_FORMATS.join(", ")}, not "${values.format ?? ""}"`);
      const format = values.format as ExportFormat;
      const dir = resolve(sources[0]!);
      const book = readGradebook(dir);
      const layers = loadLayers(book, dir, layerFiles);
      const { unmatched } = writeGradebookFiles(dir, book, layers);
      for (const warning of unmatchedWarnings(unmatched)) process.stderr.write(`labbook gradebook: warning: ${warning}\n`);
      const { views } = withFinalScores(book, layers);
      const file = resolve(values.out ?? join(dir, `${book.lab}-${format}.csv`));
      const result = exportGradebook(book, views, format, file, values.roster ? readRoster(values.roster) : new Map());
      process.stdout.write(`wrote ${result.file} (${format}, ${views.length} students) and the feedback files in ${result.feedbackDir}/\n`);
      return 0;
    }
    throw new UsageError(`usage:\n${this.usage}`);
  },
};
