/** A tiny SVG line-chart writer for the bench's pictures (no dependency). */

/** One line of a chart. `step`: drawn as a staircase (a value holds until the next point). */
export interface Series {
  name: string;
  points: Array<[number, number]>;
  color: string;
  step?: boolean;
  /** Draw a dot at each point (e.g. Slack writes). */
  dots?: boolean;
}

/** A horizontal reference line (e.g. a Slack tier's limit). */
export interface Rule {
  y: number;
  label: string;
  color: string;
}

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (n: number) => (Math.abs(n) >= 100 || Number.isInteger(n) ? n.toFixed(0) : n.toFixed(1));

/** Roughly five round tick values from 0 to `max`. */
function ticks(max: number): number[] {
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push(v);
  return out;
}

/** Renders `series` (and `rules`) on linear axes starting at 0, with a legend under the title. */
export function lineChart(chart: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  rules?: Rule[];
  width?: number;
  height?: number;
}): string {
  const width = chart.width ?? 760;
  const height = chart.height ?? 360;
  const pad = { left: 60, right: 20, top: 60, bottom: 45 };
  const all = chart.series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p[0])) * 1.02;
  const yMax = Math.max(1, ...all.map((p) => p[1]), ...(chart.rules ?? []).map((r) => r.y)) * 1.1;
  const x = (v: number) => pad.left + (v / xMax) * (width - pad.left - pad.right);
  const y = (v: number) => height - pad.bottom - (v / yMax) * (height - pad.top - pad.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img" aria-label="${esc(chart.title)}">`,
    `<title>${esc(chart.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(chart.title)}</text>`,
  ];
  for (const v of ticks(xMax)) {
    parts.push(
      `<line x1="${x(v)}" y1="${y(0)}" x2="${x(v)}" y2="${y(0) + 4}" stroke="#333"/>`,
      `<text x="${x(v)}" y="${y(0) + 16}" text-anchor="middle">${fmt(v)}</text>`,
    );
  }
  for (const v of ticks(yMax)) {
    parts.push(
      `<line x1="${pad.left}" y1="${y(v)}" x2="${width - pad.right}" y2="${y(v)}" stroke="#eee"/>`,
      `<text x="${pad.left - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`,
    );
  }
  parts.push(
    `<line x1="${pad.left}" y1="${y(0)}" x2="${width - pad.right}" y2="${y(0)}" stroke="#333"/>`,
    `<line x1="${pad.left}" y1="${pad.top - 10}" x2="${pad.left}" y2="${y(0)}" stroke="#333"/>`,
    `<text x="${(pad.left + width - pad.right) / 2}" y="${height - 8}" text-anchor="middle">${esc(chart.xLabel)}</text>`,
    `<text transform="translate(14 ${(pad.top + height - pad.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(chart.yLabel)}</text>`,
  );
  for (const rule of chart.rules ?? []) {
    parts.push(
      `<line x1="${pad.left}" y1="${y(rule.y)}" x2="${width - pad.right}" y2="${y(rule.y)}" stroke="${rule.color}" stroke-dasharray="6 4" stroke-width="1.5"/>`,
      `<text x="${width - pad.right - 4}" y="${y(rule.y) - 5}" text-anchor="end" fill="${rule.color}">${esc(rule.label)}</text>`,
    );
  }
  for (const s of chart.series) {
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    const d = pts
      .map(([px, py], i) => {
        const prev = pts[i - 1];
        const stair = s.step && prev ? `L${x(px).toFixed(1)},${y(prev[1]).toFixed(1)} ` : '';
        return `${i === 0 ? 'M' : `${stair}L`}${x(px).toFixed(1)},${y(py).toFixed(1)}`;
      })
      .join(' ');
    if (pts.length > 1) parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`);
    if (s.dots) {
      for (const [px, py] of pts)
        parts.push(`<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
  }
  chart.series.forEach((s, i) => {
    const lx = pad.left + 10 + (i % 4) * 170;
    const ly = 36 + Math.floor(i / 4) * 16;
    parts.push(
      `<rect x="${lx}" y="${ly - 8}" width="12" height="4" fill="${s.color}"/>`,
      `<text x="${lx + 16}" y="${ly - 3}">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Colours for up to eight series, distinguishable in print. */
export const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#8c564b',
  '#e377c2',
  '#17becf',
];
