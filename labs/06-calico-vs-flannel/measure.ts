// Short, printed performance measurements between two places in the cluster: TCP throughput
// with iperf3 (JSON output) and round-trip latency with a fast ping. A "place" is a node, or a
// network namespace on it (a pod). Numbers from a shared VM are only worth comparing with each
// other, measured in one run: hence the ratios to a baseline.
import { sh, type Node } from "labbook";

export interface Endpoint {
  node: Node;
  /** A network namespace on the node (e.g. "pod"); the node's own namespace when absent. */
  netns?: string;
}

export interface MeasureOptions {
  /** iperf3's test length in seconds (default 2). */
  seconds?: number;
  /** Pings for the latency (default 20, 10 ms apart). */
  pings?: number;
}

export interface Measurement {
  /** What was measured, e.g. "vxlan". */
  mode: string;
  /** TCP throughput the receiver saw (iperf3's end.sum_received.bits_per_second). */
  bitsPerSecond: number;
  /** TCP retransmissions the sender counted. */
  retransmits: number;
  /** Average ping round trip, in milliseconds. */
  rttMs: number;
  /** Wall-clock time the measurement took, in milliseconds. */
  durationMs: number;
}

function inside(endpoint: Endpoint, command: string): string {
  return endpoint.netns ? `ip netns exec ${endpoint.netns} ${command}` : command;
}

/** Gbit/s or Mbit/s, 3 significant digits. */
export function formatRate(bitsPerSecond: number): string {
  return bitsPerSecond >= 1e9 ? `${(bitsPerSecond / 1e9).toPrecision(3)} Gbit/s` : `${(bitsPerSecond / 1e6).toPrecision(3)} Mbit/s`;
}

/**
 * iperf3 from `client` to `server` (at `address`): a one-off server started detached (-s -1 -D),
 * waited for until it listens, then `iperf3 -c address -t N -J`. Resolves with the receiver's rate.
 */
export async function iperf(client: Endpoint, server: Endpoint, address: string, seconds = 2): Promise<{ bitsPerSecond: number; retransmits: number }> {
  const pidFile = "/run/iperf3-labbook.pid";
  // A server left over from an interrupted run would hold the port.
  await server.node.$({ nothrow: true })`test -f ${pidFile} && kill $(cat ${pidFile}) 2>/dev/null; rm -f ${pidFile}`;
  await sh(server.node, inside(server, `iperf3 -s -1 -D -I ${pidFile}`));
  await server.node.run(inside(server, `sh -c "until ss -Hltn sport = :5201 | grep -q .; do sleep 0.05; done"`), { timeout: 10_000 });
  const command = inside(client, `iperf3 -c ${address} -t ${seconds} -J`);
  console.log(`${client.node.name}# ${command}`);
  const result = await client.node.run(command, { nothrow: true, timeout: (seconds + 20) * 1000 });
  if (!result.ok) {
    await server.node.$({ nothrow: true })`test -f ${pidFile} && kill $(cat ${pidFile}) 2>/dev/null; rm -f ${pidFile}`;
    throw new Error(`${client.node.name}: iperf3 to ${address} failed: ${(result.stdout + result.stderr).trim().slice(-500)}`);
  }
  const report = result.json<{ end: { sum_received: { bits_per_second: number }; sum_sent: { retransmits?: number } } }>();
  const bitsPerSecond = report.end.sum_received.bits_per_second;
  const retransmits = report.end.sum_sent.retransmits ?? 0;
  console.log(`  received ${formatRate(bitsPerSecond)}, ${retransmits} retransmits (JSON: end.sum_received.bits_per_second)`);
  return { bitsPerSecond, retransmits };
}

/** `ping -c N -i 0.01 -q`: the average round trip in milliseconds. */
export async function pingRtt(from: Endpoint, address: string, count = 20): Promise<number> {
  const result = await sh(from.node, inside(from, `ping -c ${count} -i 0.01 -q -W 2 ${address}`));
  const rtt = /= [\d.]+\/([\d.]+)\/[\d.]+\/[\d.]+ ms/.exec(result.stdout);
  if (!rtt) throw new Error(`${from.node.name}: no rtt in ping's summary:\n${result.stdout}`);
  return Number(rtt[1]);
}

/** Throughput, then latency, from `client` to `server` at `address`, labelled `mode`. */
export async function measurePath(mode: string, client: Endpoint, server: Endpoint, address: string, options: MeasureOptions = {}): Promise<Measurement> {
  const started = Date.now();
  console.log(`--- ${mode}: ${client.node.name}${client.netns ? `/${client.netns}` : ""} -> ${address} (${server.node.name}${server.netns ? `/${server.netns}` : ""})`);
  const { bitsPerSecond, retransmits } = await iperf(client, server, address, options.seconds ?? 2);
  const rttMs = await pingRtt(client, address, options.pings ?? 20);
  const measurement = { mode, bitsPerSecond, retransmits, rttMs, durationMs: Date.now() - started };
  console.log(`--- ${mode}: ${formatRate(bitsPerSecond)}, rtt ${rttMs.toFixed(3)} ms, measured in ${(measurement.durationMs / 1000).toFixed(1)} s`);
  return measurement;
}

export interface Ratio extends Measurement {
  /** Throughput divided by the baseline's (higher is better). */
  throughputRatio: number;
  /** Round trip divided by the baseline's (lower is better). */
  rttRatio: number;
}

/** Each measurement with its ratios to `baseline` (by mode name, default the first). */
export function ratios(measurements: readonly Measurement[], baseline: string = measurements[0]!.mode): Ratio[] {
  const base = measurements.find((m) => m.mode === baseline);
  if (!base) throw new Error(`no baseline "${baseline}" among ${measurements.map((m) => m.mode).join(", ")}`);
  return measurements.map((m) => ({ ...m, throughputRatio: m.bitsPerSecond / base.bitsPerSecond, rttRatio: m.rttMs / base.rttMs }));
}

/** The measurements as a fixed-width text table, with ratios to the baseline. */
export function measurementTable(measurements: readonly Measurement[], baseline?: string): string {
  const rows = ratios(measurements, baseline).map((r) => [r.mode, formatRate(r.bitsPerSecond), `${r.throughputRatio.toFixed(2)}x`, String(r.retransmits), `${r.rttMs.toFixed(3)} ms`, `${r.rttRatio.toFixed(2)}x`]);
  const header = ["mode", "throughput", "vs base", "retrans", "rtt avg", "vs base"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
