/**
 * Hourly sales as an SVG bar chart, drawn on the server (no script, no library): one bar per
 * hour of the store's day, the previous period's figure as a thin marker when compared. The
 * labels are escaped; amounts arrive already formatted.
 */
export interface HourBar {
  hour: number;
  total: number;
  label: string;
  previous?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function hourlyChart(bars: HourBar[], opts: { title: string; startHour: number }): string {
  const W = 720;
  const H = 240;
  const pad = { l: 8, r: 8, t: 24, b: 28 };
  const hours = Array.from({ length: 24 }, (_, i) => (opts.startHour + i) % 24);
  const byHour = new Map(bars.map((b) => [b.hour, b]));
  const max = Math.max(1, ...bars.map((b) => Math.max(b.total, b.previous ?? 0)));
  const bw = (W - pad.l - pad.r) / 24;
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="hourly-title" class="chart" id="hourly-chart">`,
    `<title id="hourly-title">${esc(opts.title)}</title>`,
    `<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="currentColor" stroke-opacity=".4"/>`,
  ];
  hours.forEach((h, i) => {
    const x = pad.l + i * bw;
    const b = byHour.get(h);
    if (b && b.total > 0) {
      parts.push(`<rect class="bar" data-hour="${h}" x="${(x + 2).toFixed(1)}" y="${y(b.total).toFixed(1)}" width="${(bw - 4).toFixed(1)}" height="${(H - pad.b - y(b.total)).toFixed(1)}" fill="var(--accent, #0f766e)"><title>${String(h).padStart(2, '0')}:00 ${esc(b.label)}</title></rect>`);
    }
    if (b?.previous) parts.push(`<line class="previous" x1="${(x + 2).toFixed(1)}" x2="${(x + bw - 2).toFixed(1)}" y1="${y(b.previous).toFixed(1)}" y2="${y(b.previous).toFixed(1)}" stroke="currentColor" stroke-width="2"/>`);
    if (i % 3 === 0) parts.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${H - 8}" font-size="12" text-anchor="middle" fill="currentColor">${String(h).padStart(2, '0')}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
