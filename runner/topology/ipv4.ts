// Minimal IPv4 arithmetic: enough to validate a topology and derive addresses.

export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

export interface Cidr {
  base: number;
  prefix: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const [addr, prefixText, extra] = text.split("/");
  if (extra !== undefined || addr === undefined || prefixText === undefined) return undefined;
  if (!/^\d{1,2}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const base = parseIpv4(addr);
  if (base === undefined || prefix > 32) return undefined;
  if (base % 2 ** (32 - prefix) !== 0) return undefined; // host bits set: "10.0.0.1/8" is ambiguous
  return { base, prefix };
}

export function cidrSize(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function inCidr(ip: number, cidr: Cidr): boolean {
  return ip >= cidr.base && ip < cidr.base + cidrSize(cidr);
}

/** A usable host address: inside the network, not its network or broadcast address. */
export function isHostAddress(ip: number, cidr: Cidr): boolean {
  return inCidr(ip, cidr) && ip !== cidr.base && ip !== cidr.base + cidrSize(cidr) - 1;
}

const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map((c) => parseCidr(c)!);

/** RFC 1918: labbook LANs must stay inside these, so a lab can never impersonate a public host. */
export function isPrivateCidr(cidr: Cidr): boolean {
  const last = cidr.base + cidrSize(cidr) - 1;
  return PRIVATE_RANGES.some((range) => inCidr(cidr.base, range) && inCidr(last, range));
}

/** RFC 5737's documentation ranges (TEST-NET-1/2/3): never routed on the real internet. */
const DOCUMENTATION_RANGES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].map((text) => parseCidr(text)!);

export function isDocumentationAddress(ip: number): boolean {
  return DOCUMENTATION_RANGES.some((range) => inCidr(ip, range));
}
