import assert from "node:assert/strict";
import { requiredPackages } from "../../runner/host/packages.ts";

describe("package list", () => {
  it("lists the packages the embedded cluster needs, each with a file to check", () => {
    const names = requiredPackages().map((p) => p.name);
    for (const needed of ["openssh-server", "iproute2", "iptables", "tini", "util-linux"]) assert.ok(names.includes(needed), needed);
    for (const p of requiredPackages()) assert.match(p.file, /^\//);
  });

  it("rejects a malformed line", () => {
    assert.throws(() => requiredPackages("tini\n"), /malformed line "tini"/);
    assert.deepEqual(requiredPackages("# comment\n\ntini /usr/bin/tini  PID 1\n"), [{ name: "tini", file: "/usr/bin/tini", why: "PID 1" }]);
  });
});
