import { inSnapshot, type DbOrTrx, type Trx } from '../db/knex';
import { formatLocal } from '../business-date';
import { notFound } from '../errors';
import { cashRound, PPM, type Minor, type Totals } from '../money';
import { getSettings } from '../settings/service';
import type { BusinessSettings } from '../settings/schema';
import { merged } from '../merge';
import { lineModifiers, loadOrderBundle, orderLines, type LineRow, type ModifierRow, type OrderBundle, type OrderRow, type PaymentRow } from './queries';
import { remainingOf } from './refundable';
import { totalsFor } from './totals';

/** A refund of the order as its screen and receipts show it: when, how much, which lines or an amount. */
export interface RefundView {
  id: number;
  receipt_no: number;
  reason: string;
  total: Minor;
  tax_total: Minor;
  created_at: Date;
  /** when, in the store's time zone */
  time: string;
  staff_id: number | null;
  approved_by: number | null;
  staffName: string | null;
  approverName: string | null;
  /** a refund by amount (its lines carry no quantity) */
  byAmount: boolean;
  lines: Array<{ lineId: number; name: string; quantity: number; amount: Minor; net: Minor; tax: Minor }>;
  /** the tax given back, per rate */
  taxes: Array<{ name: string; tax: Minor }>;
}

/** Another check, named on this one's screen (a split, a merge). */
export interface CheckRef {
  id: number;
  number: number;
  status: OrderRow['status'];
  total: Minor;
}

/**
 * Where a check came from or went (tables/checks.ts): split into other checks, split off one,
 * merged into one; and for a share of money of a split check, the items that share covers.
 */
export interface SplitView {
  into: CheckRef[];
  from: CheckRef | null;
  mergedInto: CheckRef | null;
  share: null | {
    index: number;
    count: number;
    /** an even split: each share is 1/count of the check */
    even: boolean;
    amount: Minor;
    sourceTotal: Minor;
    lines: Array<{ quantity: number; name: string; modifiers: string[]; note: string | null; amount: Minor }>;
  };
}

export interface OrderView {
  order: OrderRow;
  lines: Array<LineRow & { modifiers: ModifierRow[]; gross: Minor; discount: Minor; lineNet: Minor; refunded: number }>;
  totals: Totals;
  taxes: Array<{ name: string; ppm: number; base: Minor; tax: Minor; percent: string }>;
  due: Minor;
  cashDue: Minor;
  payments: PaymentRow[];
  refunds: RefundView[];
  /** a paid sale: what can still be given back (refunds by amount take from it too) */
  refundable: Minor;
  split: SplitView | null;
  settings: BusinessSettings;
  tableName: string | null;
}

/** The order's screen, as committed: every part of it from one snapshot. */
export async function getOrderView(db: DbOrTrx, orderId: number): Promise<OrderView> {
  return inSnapshot(db, async (trx) => {
    const b = await loadOrderBundle(trx, orderId);
    if (!b) throw notFound('That order');
    const settings = await getSettings(trx);
    // what only some orders have, read only for them: refunds of a paid sale, a split's other checks
    const refunds = b.refunds.length ? await refundViews(trx, b.refunds, settings) : [];
    const split = b.order.split_from !== null || b.order.status === 'split' ? await splitView(trx, b.order, settings) : null;
    return viewOf(b, settings, refunds, split);
  });
}

type RefundRow = OrderBundle['refunds'][number] & Partial<Pick<RefundView, 'tax_total' | 'staff_id' | 'approved_by'>>;

async function refundViews(trx: Trx, rows: RefundRow[], { pricesIncludeTax, timezone }: BusinessSettings): Promise<RefundView[]> {
  const lines: Array<{ refund_id: number; order_line_id: number; quantity: number; net: number; tax: number; name: string; tax_name: string }> = await trx('refund_lines as rl')
    .join('order_lines as l', 'l.id', 'rl.order_line_id')
    .whereIn('rl.refund_id', rows.map((r) => r.id))
    .orderBy('rl.id')
    .select('rl.refund_id', 'rl.order_line_id', 'rl.quantity', 'rl.net', 'rl.tax', 'l.name', 'l.tax_name');
  const staffIds = [...new Set(rows.flatMap((r) => [r.staff_id, r.approved_by]).filter((x): x is number => x !== null && x !== undefined))];
  const staff = new Map<number, string>(staffIds.length ? (await trx('staff').whereIn('id', staffIds).select('id', 'name')).map((s: { id: number; name: string }) => [s.id, s.name]) : []);
  return rows.map((r) => {
    const own = lines.filter((l) => l.refund_id === r.id);
    const taxes = new Map<string, Minor>();
    for (const l of own) taxes.set(l.tax_name, (taxes.get(l.tax_name) ?? 0) + l.tax);
    return {
      id: r.id, receipt_no: r.receipt_no, reason: r.reason, total: r.total, tax_total: r.tax_total ?? 0, created_at: r.created_at, time: formatLocal(r.created_at, timezone),
      staff_id: r.staff_id ?? null, approved_by: r.approved_by ?? null,
      staffName: r.staff_id ? staff.get(r.staff_id) ?? null : null, approverName: r.approved_by ? staff.get(r.approved_by) ?? null : null,
      byAmount: own.length > 0 && own.every((l) => l.quantity === 0),
      lines: own.map((l) => ({ lineId: l.order_line_id, name: l.name, quantity: l.quantity, net: l.net, tax: l.tax, amount: pricesIncludeTax ? l.net : l.net + l.tax })),
      taxes: [...taxes].map(([name, tax]) => ({ name, tax })),
    };
  });
}

const checkRef = (o: OrderRow): CheckRef => ({ id: o.id, number: o.number, status: o.status, total: o.total });

async function splitView(trx: Trx, order: OrderRow, settings: BusinessSettings): Promise<SplitView | null> {
  const view: SplitView = { into: [], from: null, mergedInto: null, share: null };
  if (order.status === 'split') {
    // the parts point at the check they were split off; a check merged into this one points here too
    const parts: OrderRow[] = await trx('orders').where({ split_from: order.id }).whereNot({ status: 'merged' }).orderBy('id');
    view.into = parts.map(checkRef);
  }
  if (order.split_from === null) return view;
  const source: OrderRow | undefined = await trx('orders').where({ id: order.split_from }).first();
  if (!source) return view;
  if (order.status === 'merged') {
    view.mergedInto = checkRef(source);
    return view;
  }
  view.from = checkRef(source);
  if (source.status !== 'split') return view;
  // a share of money (split evenly or by amounts) leaves the check's items on it: list them
  const items = (await orderLines(trx, source.id)).filter((l) => l.quantity > 0);
  if (!items.length) return view;
  const own = await orderLines(trx, order.id);
  const siblings: Array<{ id: number }> = await trx('orders').where({ split_from: source.id }).whereNot({ status: 'merged' }).orderBy('id').select('id');
  const t = totalsFor(source, items, settings);
  const mods = await lineModifiers(trx, items.map((l) => l.id));
  const amount = own.every((l) => l.product_id === null) ? order.total : null;
  const count = siblings.length;
  view.share = {
    index: siblings.findIndex((x) => x.id === order.id) + 1,
    count,
    even: amount !== null && count > 1 && Math.abs(amount * count - t.total) < count,
    amount: amount ?? 0,
    sourceTotal: t.total,
    lines: items.map((l) => {
      const lt = t.lines.find((x) => x.key === String(l.id))!;
      return { quantity: l.quantity, name: l.name, modifiers: mods.filter((m) => m.line_id === l.id).map((m) => m.name), note: l.note, amount: lt.gross - lt.lineDiscount };
    }),
  };
  return view;
}

function viewOf(b: OrderBundle, settings: BusinessSettings, refunds: RefundView[], split: SplitView | null): OrderView {
  const { order, lines } = b;
  const totals = totalsFor(order, lines, settings);
  const closed = order.status === 'paid';
  const byKey = new Map(totals.lines.map((l) => [l.key, l]));
  const modsByLine = new Map<number, ModifierRow[]>();
  for (const m of b.modifiers) {
    const list = modsByLine.get(m.line_id);
    if (list) list.push(m);
    else modsByLine.set(m.line_id, [m]);
  }
  const due = order.status === 'open' ? totals.total - order.paid_total : 0;
  let refundable = 0;
  if (closed) {
    for (const l of lines) {
      refundable += remainingOf(l, b.refundedByLine.get(l.id), settings.pricesIncludeTax).gross;
    }
  }
  return {
    order,
    lines: lines.map((l) => {
      const t = byKey.get(String(l.id))!;
      return merged(l, { modifiers: modsByLine.get(l.id) ?? [], gross: t.gross, discount: t.lineDiscount, lineNet: t.gross - t.lineDiscount, refunded: b.refundedByLine.get(l.id)?.quantity ?? 0 });
    }),
    totals,
    taxes: totals.taxes.map((x) => ({
      name: lines.find((l) => String(l.tax_rate_id) === x.taxRateId)!.tax_name,
      ppm: x.ppm, base: x.base, tax: x.tax, percent: `${(x.ppm / (PPM / 100)).toString()}%`,
    })),
    due,
    cashDue: cashRound(due, settings.cashRounding),
    payments: order.paid_total > 0 || closed ? b.payments : [],
    refunds: closed ? refunds : [],
    refundable,
    split,
    settings,
    tableName: b.tableName,
  };
}
