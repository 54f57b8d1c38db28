import Router from '@koa/router';
import type { Context } from 'koa';
import { requires } from '../auth/middleware';
import { businessDate, formatLocal } from '../business-date';
import type { DbOrTrx } from '../db/knex';
import { notFound } from '../errors';
import { render } from '../http/render';
import { idParam, validate } from '../http/validate';
import { currencyExponent, parseDecimal, type Minor } from '../money';
import { merged } from '../merge';
import { settingsFor } from '../settings/service';
import type { BusinessSettings } from '../settings/schema';
import type { OrderDeps } from './change';
import { HistoryQuery } from './schema';
import { getOrderView, type OrderView, type RefundView } from './views';

/**
 * The sales history (issue 20): a business day's paid, refunded and voided orders, newest first,
 * a page at a time; a search by order number, receipt number, amount, product or staff. From a
 * row: the order's page (reprint, refund). Also the printable receipt of a refund.
 */

export const PAGE_SIZE = 25;

/**
 * The condition of closed sales, written out rather than bound: the day's index is partial on it
 * (migration 0020), and a plan made for a bound status could not use it.
 */
const CLOSED = (alias: string) => `${alias}.status in ('paid', 'voided')`;

export interface HistoryRow {
  id: number;
  number: number;
  receipt_no: number;
  business_date: string;
  status: 'paid' | 'voided';
  type: string;
  total: Minor;
  paid_total: Minor;
  closed_at: Date;
  customer_name: string | null;
  void_reason: string | null;
  staff_name: string | null;
  table_name: string | null;
  refunded: Minor;
  items: string;
  time: string;
}

export interface HistoryPage {
  date: string;
  today: string;
  previousDate: string;
  nextDate: string | null;
  q?: string;
  rows: HistoryRow[];
  /** the cursor of the next page (the last receipt number shown), when there is one */
  more: number | null;
}

/** The day before or after a `YYYY-MM-DD` date. */
export function shiftDate(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** `%`, `_` and `\` typed into a search mean themselves. */
const likeOf = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * One page of a day's closed orders, newest first (by receipt number, which closing hands out in
 * order). `q` narrows the day to orders whose number, amount, items or staff match; a receipt
 * number (of the sale, its void or one of its refunds) finds its order whatever its day.
 */
export async function historyPage(db: DbOrTrx, settings: BusinessSettings, now: Date, query: { date?: string; q?: string; before?: number }): Promise<HistoryPage> {
  const today = businessDate(now, settings.timezone, settings.businessDayStart);
  const date = query.date && query.date <= today ? query.date : today;
  const q = query.q;
  const whole = q && /^\d{1,15}$/.test(q) ? Number(q) : undefined;
  const amount = q && /^\d{1,11}([.,]\d{1,4})?$/.test(q) ? parseDecimal(q.replace(',', '.'), currencyExponent(settings.currency) ?? 2) : undefined;
  let byReceipt: number[] = [];
  if (whole !== undefined) {
    const rows: Array<{ id: number }> = await db
      .select('id')
      .from('orders')
      .where('receipt_no', whole)
      .union((u) => u.select('order_id as id').from('refunds').where('receipt_no', whole));
    byReceipt = rows.map((r) => Number(r.id));
  }
  const found: Array<Omit<HistoryRow, 'refunded' | 'items' | 'time'>> = await db('orders as o')
    .leftJoin('staff as s', 's.id', 'o.staff_id')
    .leftJoin('tables as t', 't.id', 'o.table_id')
    .whereRaw(CLOSED('o'))
    .where((w) => {
      w.where((day) => {
        day.where('o.business_date', date);
        if (q) {
          day.where((m) => {
            if (whole !== undefined) m.orWhere('o.number', whole);
            if (amount !== undefined) m.orWhere('o.total', amount).orWhere('o.paid_total', amount);
            const like = likeOf(q);
            m.orWhereExists((e) => e.select(db.raw('1')).from('order_lines as l').whereRaw('l.order_id = o.id').where('l.quantity', '>', 0).whereILike('l.name', like));
            // a share of a split check sells the check's items: its lines stay on the check (tables/checks.ts)
            m.orWhereExists((e) =>
              e.select(db.raw('1')).from('orders as src').join('order_lines as sl', 'sl.order_id', 'src.id')
                .whereRaw('src.id = o.split_from').where('src.status', 'split').where('sl.quantity', '>', 0).whereILike('sl.name', like));
            m.orWhereILike('s.name', like);
          });
        }
      });
      if (byReceipt.length) w.orWhereIn('o.id', byReceipt);
    })
    .modify((b) => {
      if (query.before !== undefined) b.where('o.receipt_no', '<', query.before);
    })
    .orderBy('o.receipt_no', 'desc')
    .limit(PAGE_SIZE + 1)
    .select(
      'o.id', 'o.number', 'o.receipt_no', 'o.business_date', 'o.status', 'o.type', 'o.total', 'o.paid_total', 'o.closed_at', 'o.customer_name', 'o.void_reason',
      's.name as staff_name', 't.name as table_name',
    );
  const page = found.slice(0, PAGE_SIZE);
  const ids = page.map((r) => r.id);
  const [refunds, lines] = ids.length
    ? await Promise.all([
      db('refunds').whereIn('order_id', ids).where({ status: 'succeeded' }).groupBy('order_id').select('order_id').sum({ total: 'total' }) as Promise<Array<{ order_id: number; total: string }>>,
      db('order_lines').whereIn('order_id', ids).where('quantity', '>', 0).orderBy('id').select('order_id', 'name', 'quantity') as Promise<Array<{ order_id: number; name: string; quantity: number }>>,
    ])
    : [[], []];
  const refunded = new Map(refunds.map((r) => [Number(r.order_id), Number(r.total)]));
  const rows = page.map((r) => {
    const own = lines.filter((l) => l.order_id === r.id);
    const shown = own.slice(0, 3).map((l) => `${l.quantity}× ${l.name}`);
    if (own.length > 3) shown.push(`+${own.length - 3} more`);
    return merged(r, { refunded: refunded.get(r.id) ?? 0, items: shown.join(', '), time: formatLocal(r.closed_at, settings.timezone) });
  });
  return {
    date, today, previousDate: shiftDate(date, -1), nextDate: date < today ? shiftDate(date, 1) : null, q,
    rows, more: found.length > PAGE_SIZE ? page[page.length - 1].receipt_no : null,
  };
}

/** A refund of an order, with the order's screen, for its receipt; 404 when the refund is not that order's. */
export async function refundReceipt(db: DbOrTrx, orderId: number, refundId: number): Promise<{ view: OrderView; refund: RefundView }> {
  const view = await getOrderView(db, orderId);
  const refund = view.refunds.find((r) => r.id === refundId);
  if (!refund) throw notFound('That refund');
  return { view, refund };
}

/**
 * GET /orders/history (page, or for htmx the results, or the next rows for "Load more"), and a
 * refund's printable receipt. Mounted before the order routes: `/orders/:id` would take
 * "history" for an id.
 */
export function historyRoutes(deps: Pick<OrderDeps, 'db' | 'clock'>): Router {
  const router = new Router();
  const need = requires('order:sell', deps);

  router.get('/orders/history', need, validate(HistoryQuery, 'query'), async (ctx: Context) => {
    const input = ctx.state.input as HistoryQuery;
    const settings = await settingsFor(ctx.state, deps.db);
    const page = await historyPage(deps.db, settings, deps.clock.now(), input);
    // "Load more" asks for the rows after a cursor; a search or a day asks for the results
    const partial = input.before !== undefined ? 'orders/_history_rows.html' : 'orders/_history_results.html';
    render(ctx, 'orders/history.html', partial, merged(page, { settings }));
  });

  router.get('/orders/:id/refunds/:refundId/receipt', need, async (ctx: Context) => {
    const { view, refund } = await refundReceipt(deps.db, idParam(ctx, 'id'), idParam(ctx, 'refundId'));
    // the refund's receipt was shown when it went through (the refund page); this page is a reprint
    render(ctx, 'orders/refund-receipt.html', null, merged(view, { refund, duplicate: true, printedAt: formatLocal(refund.created_at, view.settings.timezone) }));
  });

  return router;
}
