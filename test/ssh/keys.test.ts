import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ssh2 from "ssh2";
import { generateEd25519 } from "../../runner/ssh/keys.ts";

describe("ssh keys", () => {
  it("generates ed25519 pairs that ssh2 parses, every time", () => {
    for (let i = 0; i < 1000; i++) {
      const pair = generateEd25519(`key${i}`);
      const parsed = ssh2.utils.parseKey(pair.private);
      assert.ok(!(parsed instanceof Error), `key ${i}: ${String(parsed)}`);
      const pub = ssh2.utils.parseKey(pair.public);
      assert.ok(!(pub instanceof Error));
      assert.ok(parsed.getPublicSSH().equals(pub.getPublicSSH()), `key ${i}: the private key's public half differs`);
      assert.equal(parsed.comment, `key${i}`);
    }
  });

  it("generates keys that OpenSSH itself loads, with the matching public key", () => {
    const dir = mkdtempSync(join(tmpdir(), "labbook-keys-"));
    for (let i = 0; i < 20; i++) {
      const pair = generateEd25519("openssh");
      const file = join(dir, `id${i}`);
      writeFileSync(file, pair.private, { mode: 0o600 });
      const derived = execFileSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" }).trim();
      assert.equal(derived.split(" ").slice(0, 2).join(" "), pair.public.split(" ").slice(0, 2).join(" "));
    }
  });
});
