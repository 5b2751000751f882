// This lab's own helpers: what only this lab needs lives here, beside its notebook, and its cells import
// it with one line (`import { ... } from "./helpers.js"`), in Jupyter and headless alike. What several
// labs share belongs in the SDK (runner/sdk/). Import the SDK as a cell does: from "labbook".
import type { Node } from "labbook";

/** The addresses of `node`'s interface `device`, e.g. ["192.168.0.11/24"]. */
export async function addressesOf(node: Node, device: string): Promise<string[]> {
  const out = await node.$`ip -o -4 addr show dev ${device}`;
  return out.lines().map((line) => line.split(/\s+/)[3]!).filter(Boolean);
}
