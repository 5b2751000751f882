// The two parts of ssh2 labbook uses, each loaded from its own file. ssh2's package entry also loads its HTTP(S)
// agents, and with them Node's http, https and tls modules, which no labbook process needs: every kernel paid for
// them when its first cell imported the SDK (see docs/benchmark-notes.md, "The SDK's import").
import { createRequire } from "node:module";
import type ssh2 from "ssh2";

const require = createRequire(import.meta.url);

export const Client = (require("ssh2/lib/client.js") as typeof ssh2.Client);
export const parseKey = (require("ssh2/lib/protocol/keyParser.js") as { parseKey: typeof ssh2.utils.parseKey }).parseKey;
