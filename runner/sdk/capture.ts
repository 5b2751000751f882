// tcpdump as a lab step: capture on a node while something else happens, and get the
// packets back as lines. The capture runs on its own SSH channel; traffic starts only once
// tcpdump says it is listening, so the first packet is never missed.
import type { Node } from "../cluster/node.ts";
import { scaled } from "./time-scale.ts";

const LIMIT_SECONDS = 120;
const PID_PREFIX = "labbook-capture-pid=";

export interface CaptureOptions {
  /** Interface, e.g. "eth0", or "nflog:5" for NFLOG group 5. */
  iface: string;
  /** A pcap filter, e.g. "icmp and host 192.168.0.101". */
  filter?: string;
  /** Stop after this many packets (default 1). */
  count?: number;
  /** Stop this many seconds after `during` ends, if `count` packets have not come by then (default 3). */
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
  // The window is `seconds` after `during` ends, not after tcpdump starts: on a loaded node (a VM under software
  // emulation) `during` itself can take longer than the window. LIMIT only bounds a capture nothing ends.
  const running = node.$({
    nothrow: true,
    timeout: (LIMIT_SECONDS + 5) * 1000,
    onStderr: (chunk) => {
      stderr += chunk.toString();
      if (stderr.includes("listening on")) listening();
    },
  })`echo ${PID_PREFIX}$$ >&2; exec timeout ${LIMIT_SECONDS} tcpdump ${args}`;
  // If tcpdump fails to start, `running` settles first and its output explains why.
  const early = await Promise.race([ready.then(() => undefined), running]);
  if (early !== undefined) throw new Error(`${node.name}: tcpdump did not start: ${early.stderr.trim()}`);
  try {
    await during();
  } finally {
    const window = new Promise<"window">((resolve) => setTimeout(resolve, scaled(seconds * 1000), "window").unref());
    if ((await Promise.race([running, window])) === "window") {
      // Ours: the PID the capture's own shell printed before it became `timeout`, which passes TERM to tcpdump.
      const pid = new RegExp(`${PID_PREFIX}(\\d+)`).exec(stderr)?.[1];
      if (pid) await node.run(`kill -TERM ${pid} 2>/dev/null || true`, { nothrow: true });
    }
  }
  const packets = (await running).lines();
  console.log(packets.length > 0 ? packets.join("\n") : "(no packets captured)");
  return packets;
}
