import type { DbOrTrx } from '../db/knex';
import { addDays } from '../business-date';
import { add, currencyExponent, divRound, formatMoney } from '../money';
import { getSettings } from '../settings/service';
import { hourlyChart } from './chart';
import * as q from './queries';

export { closeDay, dayToClose, printX, reportRows, reportText, xReport, type CloseActor, type CloseDeps, type ZRecord } from './close-day';
export { dayTotals, type DayTotals } from './day-totals';
export type { Range } from './queries';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** The longest range a report covers (a year and a bit): a report is a question about a period, not the whole history */
export const MAX_RANGE_DAYS = 400;

export const isDate = (s: unknown): s is string => typeof s === 'string' && DATE.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`));
export const daysIn = (r: q.Range) => Math.round((Date.parse(`${r.to}T00:00:00Z`) - Date.parse(`${r.from}T00:00:00Z`)) / 86_400_000) + 1;

/** The period just before, as long as this one (a week → the week before). */
export function previousPeriod(r: q.Range): q.Range {
  const days = daysIn(r);
  return { from: addDays(r.from, -days), to: addDays(r.from, -1) };
}

export type SalesSummary = Awaited<ReturnType<typeof salesSummary>>;

/** The sales summary of a range of business dates. */
export async function salesSummary(db: DbOrTrx, r: q.Range) {
  // three independent reads, on their own connections at once (one after another inside a transaction)
  const [f, taxes, tenders] = await Promise.all([q.salesFigures(db, r), q.taxByRate(db, r), q.tendersByType(db, r)]);
  const net = add(f.total, -f.refundsTotal);
  return {
    range: r,
    checks: f.checks,
    covers: f.covers,
    gross: f.gross,
    discounts: f.discounts,
    salesTotal: f.total,
    refunds: { count: f.refunds, total: f.refundsTotal },
    voids: { count: f.voids, total: f.voidsTotal },
    net,
    tax: add(f.tax, -f.refundsTax),
    taxes,
    tips: add(...tenders.map((t) => t.tips)),
    tenders,
    averageCheck: f.checks ? Number(divRound(BigInt(f.total), BigInt(f.checks))) : 0,
  };
}

/** The summary and the previous period's, with the change of each headline figure. */
export async function summaryWithComparison(db: DbOrTrx, r: q.Range) {
  const current = await salesSummary(db, r);
  const previous = await salesSummary(db, previousPeriod(r));
  const change = (a: number, b: number) => (b === 0 ? null : Math.round(((a - b) / Math.abs(b)) * 1000) / 10);
  const headline = (['gross', 'discounts', 'salesTotal', 'net', 'tax', 'tips', 'checks', 'covers', 'averageCheck'] as const).map((k) => ({
    key: k, current: current[k], previous: previous[k], changePercent: change(current[k], previous[k]),
  }));
  return { current, previous, headline };
}

export const productMix = q.productMix;
export const categoryMix = q.categoryMix;
export const perStaff = q.perStaff;
export const exceptions = q.exceptions;
export const openOrders = q.openOrders;

/** Hourly sales and the chart, with the previous period's figures beside. */
export async function hourlySales(db: DbOrTrx, r: q.Range) {
  const s = await getSettings(db);
  const [now, before] = [await q.hourly(db, r, s.timezone), await q.hourly(db, previousPeriod(r), s.timezone)];
  const prev = new Map(before.map((h) => [h.hour, h.total]));
  const hours = Array.from(new Set([...now.map((h) => h.hour), ...before.map((h) => h.hour)])).sort((a, b) => a - b);
  const rows = hours.map((h) => {
    const cur = now.find((x) => x.hour === h);
    return { hour: h, checks: cur?.checks ?? 0, total: cur?.total ?? 0, previous: prev.get(h) ?? 0 };
  });
  const svg = hourlyChart(rows.map((x) => ({ hour: x.hour, total: x.total, previous: x.previous, label: formatMoney(x.total, s.currency) })), {
    title: `Sales by hour, ${r.from} to ${r.to}`, startHour: Number(s.businessDayStart.slice(0, 2)),
  });
  return { rows, svg };
}

export type ReportName = 'summary' | 'products' | 'hourly' | 'staff' | 'exceptions' | 'open';
export const REPORTS: ReportName[] = ['summary', 'products', 'hourly', 'staff', 'exceptions', 'open'];

/**
 * A report as a table for its CSV download: amounts in the currency's decimal form as numbers
 * (e.g. 12.5), so a spreadsheet sums them. Pages through the rows it reads, a bounded number at a time.
 */
export async function reportTable(db: DbOrTrx, name: ReportName, r: q.Range): Promise<{ header: string[]; rows: Array<Array<string | number | null>> }> {
  const s = await getSettings(db);
  const exp = currencyExponent(s.currency) ?? 2;
  const m = (v: number) => v / 10 ** exp;
  const all = async <T>(page: (p: { limit: number; offset: number }) => Promise<T[]>): Promise<T[]> => {
    const out: T[] = [];
    for (let offset = 0; ; offset += 1000) {
      const rows = await page({ limit: 1000, offset });
      out.push(...rows);
      if (rows.length < 1000) return out;
    }
  };
  switch (name) {
    case 'summary': {
      const { current: c, previous: p } = await summaryWithComparison(db, r);
      const rows: Array<Array<string | number | null>> = [
        ['Checks', c.checks, p.checks], ['Covers', c.covers, p.covers], ['Gross sales', m(c.gross), m(p.gross)], ['Discounts', m(c.discounts), m(p.discounts)],
        ['Sales total', m(c.salesTotal), m(p.salesTotal)], ['Refunds', m(c.refunds.total), m(p.refunds.total)], ['Net', m(c.net), m(p.net)],
        ['Voids', m(c.voids.total), m(p.voids.total)], ['Tax', m(c.tax), m(p.tax)], ['Tips', m(c.tips), m(p.tips)], ['Average check', m(c.averageCheck), m(p.averageCheck)],
        ...c.taxes.map((t) => [`Tax ${t.name}`, m(t.tax), null]),
        ...c.tenders.map((t) => [`Tender ${t.method}`, m(t.amount), null]),
      ];
      return { header: ['figure', `${r.from}..${r.to}`, 'previous period'], rows };
    }
    case 'products': {
      const rows = await all((pg) => q.productMix(db, r, pg));
      return { header: ['product', 'category', 'quantity', 'revenue'], rows: rows.map((x) => [x.name, x.category, x.quantity, m(x.revenue)]) };
    }
    case 'hourly': {
      const h = await hourlySales(db, r);
      return { header: ['hour', 'checks', 'total', 'previous period'], rows: h.rows.map((x) => [`${String(x.hour).padStart(2, '0')}:00`, x.checks, m(x.total), m(x.previous)]) };
    }
    case 'staff': {
      const rows = await q.perStaff(db, r);
      return { header: ['staff', 'checks', 'sales', 'tips'], rows: rows.map((x) => [x.name, x.checks, m(x.total), m(x.tips)]) };
    }
    case 'exceptions': {
      const rows = await all((pg) => q.exceptions(db, r, pg));
      return { header: ['kind', 'at', 'order', 'item', 'amount', 'reason', 'staff'], rows: rows.map((x) => [x.kind, x.at ? new Date(x.at).toISOString() : null, x.number, x.item, x.amount === null ? null : m(x.amount), x.reason, x.staff]) };
    }
    case 'open': {
      const rows = await all((pg) => q.openOrders(db, pg));
      return { header: ['order', 'business date', 'type', 'table', 'staff', 'opened', 'total', 'paid'], rows: rows.map((x) => [x.number, x.businessDate, x.type, x.table, x.staff, x.openedAt.toISOString(), m(x.total), m(x.paid)]) };
    }
  }
}
