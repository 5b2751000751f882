// CSV both ways, RFC 4180: what spreadsheets and LMSs write and read. Fields written are defused: a leading
// = + - @ makes spreadsheets run the cell as a formula, and student ids and comments are untrusted.

export function csvField(value: string | number): string {
  const text = String(value);
  const safe = /^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvText(rows: Array<Array<string | number>>): string {
  return rows.map((row) => row.map(csvField).join(",")).join("\n") + "\n";
}

/** Rows of fields; quoted fields may hold commas, quotes ("") and newlines. A BOM and blank lines are dropped. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  const input = text.replace(/^\uFEFF/, "");
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!;
    if (quoted) {
      if (ch === '"' && input[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && input[i + 1] === "\n") i++;
      row.push(field);
      if (row.some((f) => f !== "")) rows.push(row);
      row = [];
      field = "";
    } else field += ch;
  }
  row.push(field);
  if (row.some((f) => f !== "")) rows.push(row);
  return rows;
}

/** Rows as records by the header's names (lower-cased, trimmed); `where` names the file in errors. */
export function csvRecords(text: string, required: string[], where: string): Array<{ line: number; fields: Record<string, string> }> {
  const [header, ...rows] = parseCsv(text);
  if (!header) return [];
  const names = header.map((h) => h.trim().toLowerCase());
  const missing = required.filter((r) => !names.includes(r));
  if (missing.length) throw new Error(`${where}: the header must name ${required.join(", ")}; it lacks ${missing.join(", ")} (it has: ${names.join(", ")})`);
  return rows.map((fields, index) => ({ line: index + 2, fields: Object.fromEntries(names.map((n, i) => [n, (fields[i] ?? "").trim()])) }));
}
