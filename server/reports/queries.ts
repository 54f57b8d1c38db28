import type { DbOrTrx } from '../db/knex';

/**
 * The back office's reports over a range of business dates, read from the tables through their
 * indexes (orders by `sales_date`, refunds by `business_date`, the journal by its business-date
 * expression): PostgreSQL sums, pages of rows come back, never the whole history. A closed sale
 * counts on the business date its journal entry has (`orders.sales_date`, migration 0025). Only
 * payments and refunds whose `status` is 'succeeded' count (a pending or failed card payment
 * took no money).
 */
export interface Range {
  from: string;
  to: string;
}

const n = (v: unknown) => Number(v ?? 0);
type Row = Record<string, unknown>;

export async function salesFigures(db: DbOrTrx, r: Range) {
  const [o]: Row[] = (await db.raw(
    `select count(*) filter (where status = 'paid')::int as checks,
       coalesce(sum(subtotal) filter (where status = 'paid'), 0) as gross,
       coalesce(sum(discount_total) filter (where status = 'paid'), 0) as discounts,
       coalesce(sum(tax_total) filter (where status = 'paid'), 0) as tax,
       coalesce(sum(total) filter (where status = 'paid'), 0) as total,
       coalesce(sum(covers) filter (where status = 'paid'), 0) as covers,
       count(*) filter (where status = 'voided')::int as voids,
       coalesce(sum(total) filter (where status = 'voided'), 0) as voids_total
     from orders where sales_date between ? and ?`, [r.from, r.to])).rows;
  const [f]: Row[] = (await db.raw(
    `select count(*)::int as n, coalesce(sum(total), 0) as total, coalesce(sum(tax_total), 0) as tax
     from refunds where business_date between ? and ? and status = 'succeeded'`, [r.from, r.to])).rows;
  return {
    checks: n(o.checks), gross: n(o.gross), discounts: n(o.discounts), tax: n(o.tax), total: n(o.total), covers: n(o.covers),
    voids: n(o.voids), voidsTotal: n(o.voids_total), refunds: n(f.n), refundsTotal: n(f.total), refundsTax: n(f.tax),
  };
}

export async function taxByRate(db: DbOrTrx, r: Range): Promise<Array<{ name: string; ppm: number; net: number; tax: number }>> {
  const rows: Row[] = (await db.raw(
    `select name, ppm, sum(net) as net, sum(tax) as tax from (
       select l.tax_name as name, l.tax_ppm as ppm, l.net, l.tax
         from orders o join order_lines l on l.order_id = o.id
         where o.sales_date between ? and ? and o.status = 'paid'
       union all
       select l.tax_name, l.tax_ppm, -rl.net, -rl.tax
         from refunds f join refund_lines rl on rl.refund_id = f.id join order_lines l on l.id = rl.order_line_id
         where f.business_date between ? and ? and f.status = 'succeeded'
     ) x group by name, ppm order by ppm desc, name`, [r.from, r.to, r.from, r.to])).rows;
  return rows.map((x) => ({ name: String(x.name), ppm: n(x.ppm), net: n(x.net), tax: n(x.tax) }));
}

export async function tendersByType(db: DbOrTrx, r: Range): Promise<Array<{ method: string; count: number; amount: number; tips: number; refunded: number }>> {
  const rows: Row[] = (await db.raw(
    `select method, sum(cnt)::int as count, sum(amount) as amount, sum(tips) as tips, sum(refunded) as refunded from (
       select p.method, 1 as cnt, p.amount, p.tip as tips, 0 as refunded
         from orders o join payments p on p.order_id = o.id
         where o.sales_date between ? and ? and o.status = 'paid' and p.status = 'succeeded'
       union all
       select f.method, 0, 0, 0, f.total from refunds f where f.business_date between ? and ? and f.status = 'succeeded'
     ) x group by method order by method`, [r.from, r.to, r.from, r.to])).rows;
  return rows.map((x) => ({ method: String(x.method), count: n(x.count), amount: n(x.amount), tips: n(x.tips), refunded: n(x.refunded) }));
}

export async function productMix(db: DbOrTrx, r: Range, page: { limit: number; offset: number }) {
  const rows: Row[] = (await db.raw(
    `select l.product_id, min(l.name) as name, min(c.name) as category, sum(l.quantity)::bigint as quantity, sum(l.net) as revenue
     from orders o join order_lines l on l.order_id = o.id
       join products p on p.id = l.product_id join categories c on c.id = p.category_id
     where o.sales_date between ? and ? and o.status = 'paid'
     group by l.product_id order by revenue desc, l.product_id limit ? offset ?`, [r.from, r.to, page.limit, page.offset])).rows;
  return rows.map((x) => ({ productId: n(x.product_id), name: String(x.name), category: String(x.category), quantity: n(x.quantity), revenue: n(x.revenue) }));
}

export async function categoryMix(db: DbOrTrx, r: Range) {
  const rows: Row[] = (await db.raw(
    `select c.name as category, sum(l.quantity)::bigint as quantity, sum(l.net) as revenue
     from orders o join order_lines l on l.order_id = o.id
       join products p on p.id = l.product_id join categories c on c.id = p.category_id
     where o.sales_date between ? and ? and o.status = 'paid'
     group by c.name order by revenue desc`, [r.from, r.to])).rows;
  return rows.map((x) => ({ category: String(x.category), quantity: n(x.quantity), revenue: n(x.revenue) }));
}

/** Sales by the store-local hour they closed in. */
export async function hourly(db: DbOrTrx, r: Range, timeZone: string): Promise<Array<{ hour: number; checks: number; total: number }>> {
  const rows: Row[] = (await db.raw(
    `select extract(hour from closed_at at time zone ?)::int as hour, count(*)::int as checks, sum(total) as total
     from orders where sales_date between ? and ? and status = 'paid' group by 1 order by 1`, [timeZone, r.from, r.to])).rows;
  return rows.map((x) => ({ hour: n(x.hour), checks: n(x.checks), total: n(x.total) }));
}

export async function perStaff(db: DbOrTrx, r: Range) {
  const rows: Row[] = (await db.raw(
    `select s.id, coalesce(s.name, 'Nobody') as name, coalesce(o.checks, 0)::int as checks, coalesce(o.total, 0) as total, coalesce(t.tips, 0) as tips
     from (select staff_id, count(*) as checks, sum(total) as total from orders where sales_date between ? and ? and status = 'paid' group by staff_id) o
     full join (select p.staff_id, sum(p.tip) as tips from orders o2 join payments p on p.order_id = o2.id
                where o2.sales_date between ? and ? and o2.status = 'paid' and p.status = 'succeeded' group by p.staff_id) t
       on coalesce(t.staff_id, 0) = coalesce(o.staff_id, 0)
     left join staff s on s.id = coalesce(o.staff_id, t.staff_id)
     order by total desc, name`, [r.from, r.to, r.from, r.to])).rows;
  return rows.map((x) => ({ staffId: x.id === null ? null : n(x.id), name: String(x.name), checks: n(x.checks), total: n(x.total), tips: n(x.tips) }));
}

export type ExceptionKind = 'void' | 'line-void' | 'comp' | 'discount' | 'override' | 'no-sale';

/** Voids, taken-back items, comps, discounts, price overrides and no sales, newest first, one page. */
export async function exceptions(db: DbOrTrx, r: Range, page: { limit: number; offset: number }) {
  const rows: Row[] = (await db.raw(
    `select * from (
       select 'void' as kind, o.closed_at as at, o.number, null::text as item, o.total as amount, o.void_reason as reason, o.staff_id
         from orders o where o.sales_date between ? and ? and o.status = 'voided'
       union all
       select 'line-void', l.created_at, o.number, l.name, l.unit_price * (l.sent_quantity - l.quantity), l.void_reason, o.staff_id
         from orders o join order_lines l on l.order_id = o.id where o.sales_date between ? and ? and o.status = 'paid' and l.void_reason is not null
       union all
       select 'comp', l.created_at, o.number, l.name, l.unit_price * l.quantity, l.comp_reason, o.staff_id
         from orders o join order_lines l on l.order_id = o.id where o.sales_date between ? and ? and o.status = 'paid' and l.comp_reason is not null
       union all
       select 'discount', o.closed_at, o.number, null, o.discount_total, null, o.staff_id
         from orders o where o.sales_date between ? and ? and o.status = 'paid' and o.discount_total > 0
       union all
       select 'override', l.created_at, o.number, l.name, (l.original_price - l.base_price) * l.quantity, l.override_reason, o.staff_id
         from orders o join order_lines l on l.order_id = o.id where o.sales_date between ? and ? and o.status = 'paid' and l.override_reason is not null
       union all
       select 'no-sale', (j.entry->>'at')::timestamptz, null, j.entry->'drawer'->>'name', null, j.entry->>'reason', (j.entry->'staff'->>'id')::bigint
         from journal j where (j.entry->>'business_date') between ? and ? and j.kind = 'no_sale'
     ) x left join lateral (select name as staff from staff where staff.id = x.staff_id) s on true
     order by at desc nulls last limit ? offset ?`,
    [r.from, r.to, r.from, r.to, r.from, r.to, r.from, r.to, r.from, r.to, r.from, r.to, page.limit, page.offset])).rows;
  return rows.map((x) => ({
    kind: x.kind as ExceptionKind, at: x.at as Date, number: x.number === null ? null : n(x.number), item: (x.item as string | null) ?? null,
    amount: x.amount === null ? null : n(x.amount), reason: (x.reason as string | null) ?? null, staff: (x.staff as string | null) ?? null,
  }));
}

export async function openOrders(db: DbOrTrx, page: { limit: number; offset: number }) {
  const rows: Row[] = (await db.raw(
    `select o.id, o.number, o.business_date::text as business_date, o.type, o.total, o.paid_total, o.created_at, t.name as table_name, s.name as staff
     from orders o left join tables t on t.id = o.table_id left join staff s on s.id = o.staff_id
     where o.status = 'open' order by o.id limit ? offset ?`, [page.limit, page.offset])).rows;
  return rows.map((x) => ({
    id: n(x.id), number: n(x.number), businessDate: String(x.business_date), type: String(x.type), total: n(x.total), paid: n(x.paid_total),
    openedAt: x.created_at as Date, table: (x.table_name as string | null) ?? null, staff: (x.staff as string | null) ?? null,
  }));
}
