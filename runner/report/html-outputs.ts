// A code cell's outputs as HTML.
import { CHECK_MIME, sourceText, type MultilineString, type Output } from "../notebook/types.ts";
import { escapeMarkup } from "./escape.ts";
import { renderMarkdown } from "./markdown-html.ts";
import { formatDuration, stripAnsi } from "./text.ts";

export function renderOutput(output: Output): string {
  switch (output.output_type) {
    case "stream":
      return `<pre class="stream ${output.name === "stderr" ? "stderr" : "stdout"}">${escapeMarkup(stripAnsi(sourceText(output.text)))}</pre>`;
    case "error":
      return [
        `<div class="error-output"><div class="ename">${escapeMarkup(stripAnsi(`${output.ename}: ${output.evalue}`))}</div>`,
        output.traceback.length ? `<pre class="traceback">${escapeMarkup(stripAnsi(output.traceback.join("\n")))}</pre>` : "",
        "</div>",
      ].join("");
    case "display_data":
    case "execute_result":
      return renderData(output.data);
  }
}

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif"];

/** The richest representation we can show safely, the way Jupyter picks one. */
function renderData(data: Record<string, unknown>): string {
  const check = parseCheck(data[CHECK_MIME]);
  if (check) return renderCheck(check);
  // text/html comes from our own notebooks' SDK, so it is trusted as is.
  const html = text(data["text/html"]);
  if (html !== undefined) return `<div class="html-output">${html}</div>`;
  for (const type of IMAGE_TYPES) {
    const base64 = text(data[type])?.replace(/\s+/g, "");
    // Only base64 characters, so nothing can break out of the attribute.
    if (base64 && /^[A-Za-z0-9+/]+=*$/.test(base64)) return `<img class="image-output" alt="" src="data:${type};base64,${base64}">`;
  }
  // An SVG as an image, never inline: in an <img>, its scripts and links cannot run.
  const svg = text(data["image/svg+xml"]);
  if (svg !== undefined) return `<img class="image-output" alt="" src="data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}">`;
  const markdown = text(data["text/markdown"]);
  if (markdown !== undefined) return `<div class="markdown-output">${renderMarkdown(markdown)}</div>`;
  const plain = text(data["text/plain"]);
  return plain === undefined ? "" : `<pre class="text-output">${escapeMarkup(stripAnsi(plain))}</pre>`;
}

function text(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((line) => typeof line === "string")) return sourceText(value as MultilineString);
  return undefined;
}

interface CheckDisplay {
  name: string;
  passed: boolean;
  message: string;
  attempts?: number;
  durationMs?: number;
}

// nbformat stores JSON MIME data as an object; tolerate it serialised as a string too.
function parseCheck(value: unknown): CheckDisplay | undefined {
  let check = value;
  if (typeof value === "string") {
    try {
      check = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (typeof check !== "object" || check === null) return undefined;
  const { name, passed, message, attempts, durationMs } = check as Record<string, unknown>;
  if (typeof name !== "string" || typeof passed !== "boolean") return undefined;
  return {
    name,
    passed,
    message: typeof message === "string" ? message : "",
    attempts: typeof attempts === "number" ? attempts : undefined,
    durationMs: typeof durationMs === "number" ? durationMs : undefined,
  };
}

export function renderCheck(check: CheckDisplay): string {
  const meta = [
    check.attempts !== undefined && check.attempts > 1 ? `${check.attempts} attempts` : undefined,
    check.durationMs !== undefined ? formatDuration(check.durationMs) : undefined,
  ].filter((part) => part !== undefined);
  return [
    `<div class="check ${check.passed ? "check-passed" : "check-failed"}">`,
    `<span class="check-badge">${check.passed ? "✔ pass" : "✘ fail"}</span> `,
    `<span class="check-name">${escapeMarkup(check.name)}</span>`,
    check.message ? ` <span class="check-message">${escapeMarkup(stripAnsi(check.message))}</span>` : "",
    meta.length ? ` <span class="check-meta">(${escapeMarkup(meta.join(", "))})</span>` : "",
    "</div>",
  ].join("");
}
