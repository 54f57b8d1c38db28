import type { DbOrTrx } from '../db/knex';
import { add } from '../money';

/**
 * A business date's totals as its journal entries say them (the X and Z reports): every entry
 * whose `business_date` is that date, read through the journal's expression index, summed by
 * PostgreSQL (no entry is loaded into memory). The Z writes these into its own entry, so anyone
 * can recompute them from the journal alone.
 */
export type DayTotals = {
  business_date: string;
  first_seq: number | null;
  last_seq: number | null;
  sales: { count: number; gross: number; discounts: number; tax: number; total: number; rounding: number };
  refunds: { count: number; tax: number; total: number };
  voids: { count: number; total: number };
  paid_in: { count: number; total: number };
  paid_out: { count: number; total: number };
  no_sales: { count: number };
  /** sales' tenders by method (refunds' apart, as positive amounts given back) */
  tenders: Array<{ method: string; count: number; amount: number; tips: number }>;
  refund_tenders: Array<{ method: string; count: number; amount: number }>;
  /** per rate: sales less refunds */
  taxes: Array<{ name: string; ppm: number; base: number; tax: number }>;
  tips: number;
  /** net takings: sales less refunds */
  net: number;
  /** cash the day's entries put in drawers: cash tenders less change (tips included) less cash refunds, plus paid in less paid out */
  cash_movement: number;
};

const num = (v: unknown) => Number(v ?? 0);

export async function dayTotals(db: DbOrTrx, businessDate: string): Promise<DayTotals> {
  const day = "(entry->>'business_date') = ?";
  const kinds: Array<Record<string, unknown>> = (await db.raw(
    `select kind, count(*)::int as n, min(seq) as first_seq, max(seq) as last_seq,
       coalesce(sum((entry->>'subtotal')::bigint), 0) as subtotal,
       coalesce(sum((entry->>'discount_total')::bigint), 0) as discounts,
       coalesce(sum((entry->>'tax_total')::bigint), 0) as tax,
       coalesce(sum((entry->>'total')::bigint), 0) as total,
       coalesce(sum((entry->>'rounding')::bigint), 0) as rounding,
       coalesce(sum((entry->>'amount')::bigint), 0) as amount
     from journal where ${day} and kind <> 'z_closure' group by kind`,
    [businessDate],
  )).rows;
  const tenders: Array<Record<string, unknown>> = (await db.raw(
    `select j.kind, t->>'method' as method, count(*)::int as n, coalesce(sum((t->>'amount')::bigint), 0) as amount,
       coalesce(sum((t->>'tip')::bigint), 0) as tips,
       coalesce(sum(coalesce((t->>'tendered')::bigint, (t->>'amount')::bigint) - coalesce((t->>'change')::bigint, 0)), 0) as cash_in
     from journal j cross join lateral jsonb_array_elements(coalesce(j.entry->'tenders', '[]'::jsonb)) t
     where ${day.replace('entry', 'j.entry')} and j.kind in ('sale', 'refund') group by 1, 2 order by 2`,
    [businessDate],
  )).rows;
  const taxes: Array<Record<string, unknown>> = (await db.raw(
    `select x->>'name' as name, (x->>'ppm')::int as ppm, coalesce(sum((x->>'base')::bigint), 0) as base, coalesce(sum((x->>'tax')::bigint), 0) as tax
     from journal j cross join lateral jsonb_array_elements(coalesce(j.entry->'taxes', '[]'::jsonb)) x
     where ${day.replace('entry', 'j.entry')} and j.kind in ('sale', 'refund') group by 1, 2 order by 2 desc, 1`,
    [businessDate],
  )).rows;
  const k = (kind: string) => kinds.find((r) => r.kind === kind) ?? {};
  const sale = k('sale');
  const refund = k('refund');
  const sales = { count: num(sale.n), gross: num(sale.subtotal), discounts: num(sale.discounts), tax: num(sale.tax), total: num(sale.total), rounding: num(sale.rounding) };
  const refunds = { count: num(refund.n), tax: -num(refund.tax), total: -num(refund.total) };
  const saleTenders = tenders.filter((t) => t.kind === 'sale').map((t) => ({ method: String(t.method), count: num(t.n), amount: num(t.amount), tips: num(t.tips) }));
  const refundTenders = tenders.filter((t) => t.kind === 'refund').map((t) => ({ method: String(t.method), count: num(t.n), amount: -num(t.amount) }));
  const cashIn = add(...tenders.filter((t) => t.method === 'cash').map((t) => num(t.cash_in)));
  const seqs = kinds.flatMap((r) => [r.first_seq, r.last_seq]).filter((v) => v !== null && v !== undefined).map(Number);
  const paidIn = { count: num(k('paid_in').n), total: num(k('paid_in').amount) };
  const paidOut = { count: num(k('paid_out').n), total: num(k('paid_out').amount) };
  return {
    business_date: businessDate,
    first_seq: seqs.length ? Math.min(...seqs) : null,
    last_seq: seqs.length ? Math.max(...seqs) : null,
    sales,
    refunds,
    voids: { count: num(k('void').n), total: num(k('void').total) },
    paid_in: paidIn,
    paid_out: paidOut,
    no_sales: { count: num(k('no_sale').n) },
    tenders: saleTenders,
    refund_tenders: refundTenders,
    taxes: taxes.map((t) => ({ name: String(t.name), ppm: num(t.ppm), base: num(t.base), tax: num(t.tax) })),
    tips: add(...saleTenders.map((t) => t.tips)),
    net: add(sales.total, -refunds.total),
    cash_movement: add(cashIn, paidIn.total, -paidOut.total),
  };
}
