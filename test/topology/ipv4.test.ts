import assert from "node:assert/strict";
import { formatIpv4, inCidr, isHostAddress, isPrivateCidr, parseCidr, parseIpv4 } from "../../runner/topology/ipv4.ts";

describe("ipv4", () => {
  it("parses and formats addresses", () => {
    assert.equal(parseIpv4("192.168.0.11"), 0xc0a8000b);
    assert.equal(formatIpv4(0xc0a8000b), "192.168.0.11");
    for (const bad of ["256.0.0.1", "1.2.3", "01.2.3.4", "a.b.c.d", "1.2.3.4.5", ""]) assert.equal(parseIpv4(bad), undefined, bad);
  });

  it("parses networks and refuses host bits", () => {
    assert.deepEqual(parseCidr("10.244.0.0/16"), { base: 0x0af40000, prefix: 16 });
    assert.equal(parseCidr("10.244.1.0/16"), undefined);
    assert.equal(parseCidr("10.0.0.0/33"), undefined);
  });

  it("knows host addresses and private ranges", () => {
    const lan = parseCidr("192.168.0.0/24")!;
    assert.ok(isHostAddress(parseIpv4("192.168.0.11")!, lan));
    assert.ok(!isHostAddress(parseIpv4("192.168.0.0")!, lan));
    assert.ok(!isHostAddress(parseIpv4("192.168.0.255")!, lan));
    assert.ok(!inCidr(parseIpv4("192.168.1.1")!, lan));
    assert.ok(isPrivateCidr(parseCidr("172.16.0.0/12")!));
    assert.ok(!isPrivateCidr(parseCidr("172.32.0.0/16")!));
    assert.ok(!isPrivateCidr(parseCidr("192.0.0.0/8")!));
  });
});
