// A strict XML well-formedness check for the tests, returning the element tree to query.
// Not a general parser: no DTDs, no CDATA, no namespaces — junit.xml uses none.

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][\w.:-]*/;
const REFERENCE = /^&(?:lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/;
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function parseXml(xml: string): XmlElement {
  const invalid = xml.match(NOT_XML_CHAR);
  if (invalid) throw new Error(`character U+${invalid[0].codePointAt(0)!.toString(16)} is not allowed in XML 1.0`);
  let rest = xml.replace(/^<\?xml[^?]*\?>/, "");
  const fail = (what: string): never => {
    throw new Error(`${what} at offset ${xml.length - rest.length}: ${JSON.stringify(rest.slice(0, 40))}`);
  };
  const skipSpace = () => (rest = rest.replace(/^\s+/, ""));

  const decode = (raw: string, inAttribute: boolean): string => {
    let out = "";
    for (let i = 0; i < raw.length; ) {
      const ch = raw[i]!;
      if (ch === "<" || (inAttribute && ch === '"')) fail(`unescaped ${ch}`);
      if (ch === "&") {
        const ref = raw.slice(i).match(REFERENCE)?.[0] ?? fail("bad entity reference");
        out += decodeReference(ref);
        i += ref.length;
      } else {
        out += ch;
        i++;
      }
    }
    return out;
  };

  const element = (): XmlElement => {
    if (!rest.startsWith("<")) fail("expected an element");
    rest = rest.slice(1);
    const name = rest.match(NAME)?.[0] ?? fail("bad element name");
    rest = rest.slice(name.length);
    const node: XmlElement = { name, attributes: {}, children: [], text: "" };
    for (;;) {
      const hadSpace = /^\s/.test(rest);
      skipSpace();
      if (rest.startsWith("/>")) {
        rest = rest.slice(2);
        return node;
      }
      if (rest.startsWith(">")) {
        rest = rest.slice(1);
        break;
      }
      if (!hadSpace) fail("attributes must be separated by space");
      const attribute = rest.match(/^([A-Za-z_:][\w.:-]*)\s*=\s*"([^"]*)"/) ?? fail("bad attribute");
      if (attribute[1]! in node.attributes) fail(`duplicate attribute ${attribute[1]}`);
      node.attributes[attribute[1]!] = decode(attribute[2]!, true);
      rest = rest.slice(attribute[0].length);
    }
    for (;;) {
      const textEnd = rest.indexOf("<");
      if (textEnd < 0) fail(`unclosed <${name}>`);
      node.text += decode(rest.slice(0, textEnd), false);
      rest = rest.slice(textEnd);
      if (rest.startsWith("</")) {
        const close = rest.match(/^<\/([^\s>]+)\s*>/) ?? fail("bad closing tag");
        if (close[1] !== name) fail(`</${close[1]}> closes <${name}>`);
        rest = rest.slice(close[0].length);
        return node;
      }
      node.children.push(element());
    }
  };

  skipSpace();
  const root = element();
  skipSpace();
  if (rest !== "") fail("content after the root element");
  return root;
}

function decodeReference(ref: string): string {
  const named: Record<string, string> = { "&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&apos;": "'" };
  if (named[ref]) return named[ref];
  const code = ref.startsWith("&#x") ? parseInt(ref.slice(3, -1), 16) : parseInt(ref.slice(2, -1), 10);
  const ch = String.fromCodePoint(code);
  if (NOT_XML_CHAR.test(ch)) throw new Error(`reference ${ref} is not an XML 1.0 character`);
  return ch;
}

export function descendants(element: XmlElement, name: string): XmlElement[] {
  return element.children.flatMap((child) => [...(child.name === name ? [child] : []), ...descendants(child, name)]);
}
