// Escaping for the markup the reporters write: JUnit XML and HTML pages.

// Characters XML 1.0 forbids even as character references (C0 controls other than
// tab/newline/return, lone surrogates, U+FFFE/U+FFFF). Kernel output is full of them
// (ANSI colours, progress bars), and one of them makes a whole junit.xml unreadable.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function stripInvalidXmlChars(text: string): string {
  return text.replace(NOT_XML_CHAR, "");
}

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Safe as XML or HTML text and inside a quoted attribute. */
export function escapeMarkup(text: string): string {
  return stripInvalidXmlChars(text).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** For attribute values whose line breaks matter: parsers turn a raw newline in an attribute into a space. */
export function escapeAttribute(text: string): string {
  return escapeMarkup(text).replace(/\n/g, "&#10;").replace(/\r/g, "&#13;").replace(/\t/g, "&#9;");
}
