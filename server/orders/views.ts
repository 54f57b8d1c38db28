import { inSnapshot, type DbOrTrx } from '../db/knex';
import { notFound } from '../errors';
import { cashRound, PPM, type Minor, type Totals } from '../money';
import { getSettings } from '../settings/service';
import type { BusinessSettings } from '../settings/schema';
import { merged } from '../merge';
import { loadOrderBundle, type LineRow, type ModifierRow, type OrderBundle, type OrderRow, type PaymentRow } from './queries';
import { totalsFor } from './totals';

export interface OrderView {
  order: OrderRow;
  lines: Array<LineRow & { modifiers: ModifierRow[]; gross: Minor; discount: Minor; lineNet: Minor; refunded: number }>;
  totals: Totals;
  taxes: Array<{ name: string; ppm: number; base: Minor; tax: Minor; percent: string }>;
  due: Minor;
  cashDue: Minor;
  payments: PaymentRow[];
  refunds: Array<{ id: number; receipt_no: number; reason: string; total: number; created_at: Date }>;
  settings: BusinessSettings;
  tableName: string | null;
}

/** The order's screen, as committed: every part of it from one snapshot. */
export async function getOrderView(db: DbOrTrx, orderId: number): Promise<OrderView> {
  return inSnapshot(db, async (trx) => {
    const b = await loadOrderBundle(trx, orderId);
    if (!b) throw notFound('That order');
    return viewOf(b, await getSettings(trx));
  });
}

function viewOf(b: OrderBundle, settings: BusinessSettings): OrderView {
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
    refunds: closed ? b.refunds : [],
    settings,
    tableName: b.tableName,
  };
}
