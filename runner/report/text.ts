// Plain-text helpers shared by the reporters.

// CSI sequences (colours, cursor moves), OSC sequences (titles, hyperlinks) and the
// two-character escapes: what terminals and tracebacks from kernels contain.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/** 850 ms, 12.3 s, 4m 05s: precise for quick cells, readable for slow ones. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, "0")}s`;
}

/** Whitespace (line breaks included) collapsed, control characters dropped, cut to `max` characters with an ellipsis. */
export function oneLine(text: string, max: number): string {
  const flat = stripAnsi(text).replace(/\s+/g, " ").replace(/[\u0000-\u001f\u007f]/g, "").trim();
  const chars = [...flat]; // by code point, so an emoji is never cut in half
  return chars.length <= max ? flat : `${chars.slice(0, max - 1).join("").trimEnd()}…`;
}

/** Continuation lines indented to sit under the first one. */
export function indentContinuation(text: string, indent: string): string {
  return text.replace(/\n/g, `\n${indent}`);
}
