// A small, safe subset of Markdown rendered to HTML for the notebook pages: headings,
// paragraphs, bold/italic, inline code, fenced code, bullet and numbered lists, rules,
// links. Everything else, raw HTML included, comes out escaped as text.
import { escapeMarkup } from "./escape.ts";

export function renderMarkdown(source: string): string {
  return renderBlocks(source.replace(/\r\n?/g, "\n").split("\n"));
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const LIST_ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])[ \t]+(.*)$/;

function renderBlocks(lines: string[]): string {
  const html: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    let match: RegExpMatchArray | null;
    if (line.trim() === "") {
      i++;
    } else if ((match = line.match(FENCE))) {
      const fence = match[1]!;
      const body: string[] = [];
      for (i++; i < lines.length && !isClosingFence(lines[i]!, fence); i++) body.push(lines[i]!);
      i++;
      const language = match[2] ? ` class="language-${escapeMarkup(match[2])}"` : "";
      html.push(`<pre><code${language}>${escapeMarkup(body.join("\n"))}</code></pre>`);
    } else if ((match = line.match(HEADING))) {
      const level = match[1]!.length;
      html.push(`<h${level}>${renderInline(match[2] ?? "")}</h${level}>`);
      i++;
    } else if (RULE.test(line)) {
      html.push("<hr>");
      i++;
    } else if (LIST_ITEM.test(line)) {
      const end = listEnd(lines, i);
      html.push(renderList(lines.slice(i, end)));
      i = end;
    } else {
      const paragraph: string[] = [];
      for (; i < lines.length && lines[i]!.trim() !== "" && (paragraph.length === 0 || !startsBlock(lines[i]!)); i++) paragraph.push(lines[i]!.trim());
      html.push(`<p>${renderInline(paragraph.join("\n"))}</p>`);
    }
  }
  return html.join("\n");
}

function startsBlock(line: string): boolean {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || LIST_ITEM.test(line);
}

function isClosingFence(line: string, fence: string): boolean {
  const trimmed = line.trim();
  return trimmed.length >= fence.length && trimmed === fence[0]!.repeat(trimmed.length);
}

/** A list runs over its items, their indented continuation lines and blank lines between them. */
function listEnd(lines: string[], start: number): number {
  let end = start + 1;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") continue;
    if (LIST_ITEM.test(line) || /^\s{2,}/.test(line)) end = i + 1;
    else break;
  }
  return end;
}

function renderList(lines: string[]): string {
  const first = lines[0]!.match(LIST_ITEM)!;
  const indent = first[1]!.length;
  const ordered = /\d/.test(first[2]!);
  const items: string[][] = [];
  for (const line of lines) {
    const match = line.match(LIST_ITEM);
    if (match && match[1]!.length <= indent) items.push([match[3]!]);
    else items[items.length - 1]!.push(line.replace(/^\s{1,4}/, "").replace(/^\s+$/, ""));
  }
  const rendered = items.map((item) => `<li>${unwrapFirstParagraph(renderBlocks(item))}</li>`);
  const tag = ordered ? "ol" : "ul";
  return `<${tag}>\n${rendered.join("\n")}\n</${tag}>`;
}

// "- item" should read as a line of text, not a paragraph with margins around it.
function unwrapFirstParagraph(html: string): string {
  return html.replace(/^<p>([\s\S]*?)<\/p>/, "$1");
}

// Code spans and links are rendered first and parked in slots (private-use characters
// mark where), so that emphasis can span them without ever seeing their contents.
const SLOT_OPEN = "\uE000";
const SLOT_CLOSE = "\uE001";
const ESCAPABLE = /[!-/:-@[-`{-~]/;

export function renderInline(raw: string): string {
  const text = raw.replace(/[\uE000\uE001]/g, "");
  const slots: string[] = [];
  let html = "";
  let plain = 0; // start of the text not yet copied to html
  const park = (from: number, to: number, slot: string) => {
    html += escapeMarkup(text.slice(plain, from)) + `${SLOT_OPEN}${slots.push(slot) - 1}${SLOT_CLOSE}`;
    plain = to;
    return to;
  };
  for (let i = 0; i < text.length; ) {
    const ch = text[i]!;
    if (ch === "\\" && ESCAPABLE.test(text[i + 1] ?? "")) {
      i = park(i, i + 2, escapeMarkup(text[i + 1]!));
    } else if (ch === "`") {
      const code = codeSpan(text, i);
      // An unclosed run of backticks is literal text, all of it.
      i = code ? park(i, code.end, `<code>${escapeMarkup(code.content)}</code>`) : i + text.slice(i).match(/^`+/)![0].length;
    } else if (ch === "[" || (ch === "!" && text[i + 1] === "[")) {
      const link = linkAt(text, ch === "!" ? i + 1 : i);
      // An image becomes a link to it: the page fetches nothing from elsewhere.
      const label = link && renderInline(link.label);
      i = link ? park(i, link.end, link.href === undefined ? label! : `<a href="${escapeMarkup(link.href)}">${label}</a>`) : i + 1;
    } else {
      i++;
    }
  }
  html += escapeMarkup(text.slice(plain));
  return emphasize(html).replace(/\uE000(\d+)\uE001/g, (_, n: string) => slots[Number(n)]!);
}

function codeSpan(text: string, start: number): { content: string; end: number } | undefined {
  const ticks = text.slice(start).match(/^`+/)![0];
  const close = new RegExp(`(?<!\`)${ticks}(?!\`)`, "g");
  close.lastIndex = start + ticks.length;
  const found = close.exec(text);
  if (!found) return undefined;
  let content = text.slice(start + ticks.length, found.index).replace(/\n/g, " ");
  if (/^ .*[^ ].* $/.test(content)) content = content.slice(1, -1);
  return { content, end: found.index + ticks.length };
}

function linkAt(text: string, start: number): { label: string; href: string | undefined; end: number } | undefined {
  const match = text.slice(start).match(/^\[((?:[^[\]\\]|\\.)*)\]\(([^()\s]*)(?:\s+"[^"]*")?\)/);
  if (!match) return undefined;
  return { label: match[1]!, href: safeHref(match[2]!), end: start + match[0].length };
}

/** http(s), mailto and relative links only: a `javascript:` link would run in the page. */
export function safeHref(url: string): string | undefined {
  if (/[\u0000-\u0020\u007f]/.test(url)) return undefined;
  const scheme = url.match(/^([a-z][a-z0-9+.-]*):/i)?.[1]?.toLowerCase();
  return scheme === undefined || scheme === "http" || scheme === "https" || scheme === "mailto" ? url : undefined;
}

// Works on escaped HTML: entities and slot markers contain no * or _, so markers are real.
function emphasize(html: string): string {
  return html
    .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, "$1<strong>$2</strong>")
    .replace(/\*([^\s*](?:[^*]*?[^\s*])?)\*/g, "<em>$1</em>")
    .replace(/(^|[^\w])_([^\s_](?:[^_]*?[^\s_])?)_(?!\w)/g, "$1<em>$2</em>");
}
