// tcpdump as a lab step: capture on a node while something else happens, and get the
// packets back as lines. The capture runs on its own SSH channel; traffic starts only once
// tcpdump says it is listening, so the first packet is never missed.
import type { Node } from "../cluster/node.ts";

export interface CaptureOptions {
  /** Interface, e.g. "eth0", or "nflog:5" for NFLOG group 5. */
  iface: string;
  /** A pcap filter, e.g. "icmp and host 192.168.0.101". */
  filter?: string;
  /** Stop after this many packets (default 1). */
  count?: number;
  /** Stop after this many seconds anyway (default 3). */
  seconds?: number;
  /** Extra tcpdump flags, e.g. ["-e"] to show MAC addresses. */
  flags?: string[];
}

/** Captures on `node` while `during` runs; resolves with tcpdump's packet lines. */
export async function capture(node: Node, options: CaptureOptions, during: () => Promise<unknown>): Promise<string[]> {
  const seconds = options.seconds ?? 3;
  const args = ["-l", "-n", ...(options.flags ?? []), "-i", options.iface, "-c", String(options.count ?? 1), ...(options.filter ? [options.filter] : [])];
  console.log(`${node.name}# tcpdump ${args.join(" ")}`);
  let listening!: () => void;
  const ready = new Promise<void>((resolve) => (listening = resolve));
  let stderr = "";
  const running = node.$({
    nothrow: true,
    timeout: (seconds + 2) * 1000,
    onStderr: (chunk) => {
      stderr += chunk.toString();
      if (stderr.includes("listening on")) listening();
    },
  })`timeout ${seconds} tcpdump ${args}`;
  // If tcpdump fails to start, `running` settles first and its output explains why.
  const early = await Promise.race([ready.then(() => undefined), running]);
  if (early !== undefined) throw new Error(`${node.name}: tcpdump did not start: ${early.stderr.trim()}`);
  await during();
  const packets = (await running).lines();
  console.log(packets.length > 0 ? packets.join("\n") : "(no packets captured)");
  return packets;
}
