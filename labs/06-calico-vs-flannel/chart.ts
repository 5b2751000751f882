// Charts in a notebook without a plotting library: a small hand-written SVG, published as
// display data (the SDK's display(), as the check badges are). The SVG goes out as
// image/svg+xml and, inlined, as text/html (which labbook's HTML report renders), with a
// text/plain fallback for terminals.
import { display } from "labbook";
import { formatRate, ratios, type Measurement } from "./measure.js";

const escapeXml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Publishes an SVG as the running cell's display output (or prints `alt` outside a kernel). */
export function showSvg(svg: string, alt = "(an SVG chart)"): void {
  display({ "image/svg+xml": svg, "text/html": `<div class="labbook-chart">${svg}</div>`, "text/plain": alt });
}

export interface Bar {
  label: string;
  value: number;
  /** Small text after the value, e.g. the absolute number behind a ratio. */
  caption?: string;
  /** Drawn in grey: the reference the others are compared with. */
  muted?: boolean;
}

export interface BarPanel {
  title: string;
  subtitle?: string;
  bars: readonly Bar[];
  /** Bar colour (CSS). */
  color?: string;
  /** Draws a dashed line at this value, e.g. 1 for "same as the baseline". */
  reference?: number;
  /** How values are written, default two decimals and "×". */
  format?: (value: number) => string;
}

const PANEL_WIDTH = 440;
const LABEL_WIDTH = 90;
const BAR_SPACE = 210;
const ROW = 30;
const TOP = 62;

/** Horizontal bar charts side by side, one per panel, as a self-contained SVG. */
export function barChartSvg(panels: readonly BarPanel[], title?: string): string {
  const rows = Math.max(...panels.map((p) => p.bars.length));
  const top = TOP + (title ? 26 : 0);
  const width = PANEL_WIDTH * panels.length + 10;
  const height = top + rows * ROW + 12;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (title) parts.push(`<text x="10" y="20" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  panels.forEach((panel, p) => {
    const x0 = 10 + p * PANEL_WIDTH;
    const format = panel.format ?? ((v: number) => `${v.toFixed(2)}×`);
    const max = Math.max(panel.reference ?? 0, ...panel.bars.map((b) => b.value)) * 1.05 || 1;
    const scale = (value: number) => (Math.max(0, value) / max) * BAR_SPACE;
    parts.push(`<text x="${x0}" y="${top - 34}" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`);
    if (panel.subtitle) parts.push(`<text x="${x0}" y="${top - 18}" fill="#555">${escapeXml(panel.subtitle)}</text>`);
    panel.bars.forEach((bar, i) => {
      const y = top + i * ROW;
      const w = scale(bar.value);
      parts.push(
        `<text x="${x0 + LABEL_WIDTH - 6}" y="${y + 15}" text-anchor="end">${escapeXml(bar.label)}</text>`,
        `<rect x="${x0 + LABEL_WIDTH}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 10}" fill="${bar.muted ? "#999" : (panel.color ?? "#4878a8")}"/>`,
        `<text x="${x0 + LABEL_WIDTH + w + 5}" y="${y + 15}" font-weight="bold">${escapeXml(format(bar.value))}</text>`,
      );
      if (bar.caption) parts.push(`<text x="${x0 + LABEL_WIDTH + w + 50}" y="${y + 15}" fill="#555" font-size="11">${escapeXml(bar.caption)}</text>`);
    });
    if (panel.reference !== undefined) {
      const x = x0 + LABEL_WIDTH + scale(panel.reference);
      parts.push(`<line x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${top + panel.bars.length * ROW}" stroke="#333" stroke-dasharray="4 3"/>`);
    }
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/** Throughput and latency of each measurement as ratios to `baseline`, two panels. */
export function measurementChartSvg(measurements: readonly Measurement[], baseline?: string): string {
  const rows = ratios(measurements, baseline);
  const base = baseline ?? measurements[0]!.mode;
  return barChartSvg(
    [
      {
        title: "Throughput (iperf3, TCP)",
        subtitle: `ratio to ${base}: higher is better`,
        color: "#4878a8",
        reference: 1,
        bars: rows.map((r) => ({ label: r.mode, value: r.throughputRatio, caption: formatRate(r.bitsPerSecond), muted: r.mode === base })),
      },
      {
        title: "Round-trip latency (ping)",
        subtitle: `ratio to ${base}: lower is better`,
        color: "#d8843c",
        reference: 1,
        bars: rows.map((r) => ({ label: r.mode, value: r.rttRatio, caption: `${r.rttMs.toFixed(3)} ms`, muted: r.mode === base })),
      },
    ],
    "node1 → node2: the baseline node to node, the others pod to pod; one run, one cluster",
  );
}
