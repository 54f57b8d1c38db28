import type { DbOrTrx } from '../db/knex';
import { currencyExponent } from '../money';
import type { BusinessSettings } from '../settings/schema';
import { entryLine } from '../journal/service';
import { toCsv, type Cell } from './csv';

/**
 * The day's files, each built from one query over that business date (orders by `sales_date`,
 * refunds by `business_date`, the journal by its business-date index): a day, never the history.
 */
export interface DayFiles {
  'orders.csv': string;
  'order_lines.csv': string;
  'payments.csv': string;
  'journal.ndjson': string;
}

type Row = Record<string, unknown>;
const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : d === null || d === undefined ? null : String(d));

export async function dayFiles(db: DbOrTrx, date: string, settings: BusinessSettings): Promise<DayFiles> {
  const exp = currencyExponent(settings.currency) ?? 2;
  const m = (v: unknown): Cell => (v === null || v === undefined ? null : Number(v) / 10 ** exp); // the currency's decimal form, as a number
  const bom = settings.exportBom;
  const orders: Row[] = (await db.raw(
    `select o.id, o.number, o.receipt_no, o.business_date::text as opened_on, o.sales_date::text as sales_date, o.status, o.type, o.customer_name,
       t.name as table_name, s.name as staff, o.covers, o.subtotal, o.discount_total, o.tax_total, o.total, o.paid_total, o.rounding,
       o.created_at, o.closed_at, o.void_reason, o.journal_seq
     from orders o left join tables t on t.id = o.table_id left join staff s on s.id = o.staff_id
     where o.sales_date = ? order by o.receipt_no, o.id`, [date])).rows;
  const lines: Row[] = (await db.raw(
    `select l.order_id, o.number, l.id, l.product_id, l.name, c.name as category, l.quantity, l.unit_price, l.net, l.tax, l.tax_name, l.tax_ppm,
       l.discount_kind, l.discount_value, l.comp_reason, l.void_reason, l.override_reason, l.original_price
     from orders o join order_lines l on l.order_id = o.id left join products p on p.id = l.product_id left join categories c on c.id = p.category_id
     where o.sales_date = ? order by o.receipt_no, o.id, l.id`, [date])).rows;
  const payments: Row[] = (await db.raw(
    `select * from (
       select 'payment' as kind, p.id, p.order_id, o.number, p.method, p.amount, p.tendered, p.change, p.tip, p.status, s.name as staff, p.created_at
         from orders o join payments p on p.order_id = o.id left join staff s on s.id = p.staff_id
         where o.sales_date = ? and o.status = 'paid'
       union all
       select 'refund', f.id, f.order_id, o.number, f.method, -f.total, null, null, null, f.status, s.name, f.created_at
         from refunds f join orders o on o.id = f.order_id left join staff s on s.id = f.staff_id
         where f.business_date = ?
     ) x order by created_at, kind, id`, [date, date])).rows;
  return {
    'orders.csv': toCsv(
      ['order_id', 'number', 'receipt_no', 'opened_on', 'business_date', 'status', 'type', 'customer', 'table', 'staff', 'covers', 'subtotal', 'discounts', 'tax', 'total', 'paid', 'rounding', 'opened_at', 'closed_at', 'void_reason', 'journal_seq'],
      orders.map((o) => [o.id as number, o.number as number, o.receipt_no as number | null, o.opened_on as string, o.sales_date as string, o.status as string, o.type as string,
        o.customer_name as string | null, o.table_name as string | null, o.staff as string | null, o.covers as number | null, m(o.subtotal), m(o.discount_total), m(o.tax_total), m(o.total),
        m(o.paid_total), m(o.rounding), iso(o.created_at), iso(o.closed_at), o.void_reason as string | null, o.journal_seq as number | null]),
      { bom },
    ),
    'order_lines.csv': toCsv(
      ['order_id', 'order_number', 'line_id', 'product_id', 'product', 'category', 'quantity', 'unit_price', 'net', 'tax', 'tax_rate', 'tax_percent', 'discount', 'comp_reason', 'void_reason', 'override_reason', 'list_price'],
      lines.map((l) => [l.order_id as number, l.number as number, l.id as number, l.product_id as number, l.name as string, l.category as string | null, l.quantity as number,
        m(l.unit_price), m(l.net), m(l.tax), l.tax_name as string, Number(l.tax_ppm) / 10_000,
        l.discount_kind === 'percent' ? `${Number(l.discount_value) / 10_000}%` : l.discount_kind === 'amount' ? m(l.discount_value) : null,
        l.comp_reason as string | null, l.void_reason as string | null, l.override_reason as string | null, m(l.original_price)]),
      { bom },
    ),
    'payments.csv': toCsv(
      ['kind', 'id', 'order_id', 'order_number', 'method', 'amount', 'tendered', 'change', 'tip', 'status', 'staff', 'at'],
      payments.map((p) => [p.kind as string, p.id as number, p.order_id as number, p.number as number, p.method as string, m(p.amount), m(p.tendered), m(p.change), m(p.tip),
        p.status as string, p.staff as string | null, iso(p.created_at)]),
      { bom },
    ),
    'journal.ndjson': await journalLines(db, date),
  };
}

/**
 * The day's journal entries as NDJSON, their one JSON form a line each: the contiguous run of
 * seq from the day's first entry to its last (an entry of a neighbouring day written in between,
 * e.g. before a late Z, comes too), so every line's prev_hash is the line before's hash and the
 * file verifies by the one hash rule alone. Read in pages of 1000.
 */
async function journalLines(db: DbOrTrx, date: string): Promise<string> {
  const [span] = (await db.raw("select min(seq) as first, max(seq) as last from journal where (entry->>'business_date') = ?", [date])).rows as Array<{ first: number | null; last: number | null }>;
  if (span.first === null || span.last === null) return '';
  const out: string[] = [];
  for (let after = Number(span.first) - 1; after < Number(span.last); ) {
    const rows: Array<{ seq: number; entry: Record<string, unknown> }> = await db('journal').where('seq', '>', after).andWhere('seq', '<=', Number(span.last)).orderBy('seq').limit(1000).select('seq', 'entry');
    if (!rows.length) break;
    for (const r of rows) out.push(entryLine(r.entry));
    after = rows[rows.length - 1].seq;
  }
  return out.join('\n') + '\n';
}
