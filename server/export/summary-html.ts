import { formatMoney } from '../money';
import type { BusinessSettings } from '../settings/schema';
import type { DaySummary } from './service';

const esc = (s: unknown) => String(s ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The printable summary of a day (summary.html): plain HTML and a print stylesheet, no script, no PDF library. */
export function summaryHtml(s: DaySummary, settings: BusinessSettings): string {
  const m = (v: number) => esc(formatMoney(v, settings.currency));
  const c = s.sales;
  const row = (label: string, value: string) => `<tr><th scope="row">${esc(label)}</th><td>${value}</td></tr>`;
  const z = s.z;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(settings.storeName)} · ${esc(s.business_date)}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#111}table{border-collapse:collapse;margin:0 0 1.5rem}th,td{padding:.25rem .75rem;border-bottom:1px solid #ccc;text-align:left}td{text-align:right;font-variant-numeric:tabular-nums}@media print{body{margin:1cm}}</style>
</head><body>
<h1>${esc(settings.storeName)}: business day ${esc(s.business_date)}</h1>
<p>${z ? `Z ${esc(z.z_no)}, closed ${esc(z.at)}` : 'No Z closure for this day yet.'}</p>
<h2>Sales</h2>
<table>
${row('Checks', String(c.checks))}${row('Covers', String(c.covers))}${row('Gross sales', m(c.gross))}${row('Discounts', m(-c.discounts))}${row('Sales total', m(c.salesTotal))}
${row(`Refunds (${c.refunds.count})`, m(-c.refunds.total))}${row('Net', `<strong>${m(c.net)}</strong>`)}${row(`Voids (${c.voids.count})`, m(c.voids.total))}${row('Tips', m(c.tips))}${row('Average check', m(c.averageCheck))}
</table>
<h2>Tax</h2>
<table><tr><th>Rate</th><td>Net</td><td>Tax</td></tr>
${c.taxes.map((t) => `<tr><th scope="row">${esc(t.name)}</th><td>${m(t.net)}</td><td>${m(t.tax)}</td></tr>`).join('\n')}
</table>
<h2>Tenders</h2>
<table><tr><th>Method</th><td>Count</td><td>Taken</td><td>Tips</td><td>Refunded</td></tr>
${c.tenders.map((t) => `<tr><th scope="row">${esc(t.method)}</th><td>${t.count}</td><td>${m(t.amount)}</td><td>${m(t.tips)}</td><td>${m(t.refunded)}</td></tr>`).join('\n')}
</table>
<h2>Cash drawers</h2>
<table><tr><th>Drawer</th><td>Float</td><td>Expected</td><td>Counted</td><td>Over / short</td></tr>
${s.drawers.map((d: Record<string, unknown>) => `<tr><th scope="row">${esc(d.drawer_name)}</th><td>${m(Number(d.opening_float))}</td><td>${m(Number(d.expected))}</td><td>${m(Number(d.counted))}</td><td>${m(Number(d.over_short))}</td></tr>`).join('\n')}
</table>
${z ? `<p>Grand totals after this Z: sales ${m(Number((z.grand_totals as { sales: number }).sales))}, refunds ${m(Number((z.grand_totals as { refunds: number }).refunds))}, voids ${m(Number((z.grand_totals as { voids: number }).voids))}.</p>` : ''}
</body></html>
`;
}
