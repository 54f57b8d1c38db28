import type { DbOrTrx } from '../db/knex';
import type { Write } from '../db/write-all';
import { query } from '../db/direct';
import { PRODUCT_WITH_GROUPS_SQL, productWithGroups, type ProductWithGroups } from '../catalog/service';

export interface OrderRow {
  id: number;
  number: number;
  business_date: string;
  type: 'counter' | 'takeaway' | 'dine_in';
  status: 'open' | 'paid' | 'voided' | 'merged' | 'split';
  parked: boolean;
  customer_name: string | null;
  table_id: number | null;
  discount_kind: 'percent' | 'amount' | null;
  discount_value: number | null;
  subtotal: number;
  discount_total: number;
  tax_total: number;
  total: number;
  paid_total: number;
  rounding: number;
  version: number;
  receipt_no: number | null;
  journal_seq: number | null;
  void_reason: string | null;
  staff_id: number | null;
  terminal_id: number | null;
  held_courses: number[];
  covers: number | null;
  seated_at: Date | null;
  first_sent_at: Date | null;
  tax_adjustments: Record<string, number> | null;
  split_from: number | null;
  created_at: Date;
  updated_at: Date;
  closed_at: Date | null;
}

export interface LineRow {
  id: number;
  order_id: number;
  product_id: number | null;
  name: string;
  base_price: number;
  unit_price: number;
  quantity: number;
  note: string | null;
  tax_rate_id: number;
  tax_name: string;
  tax_ppm: number;
  discount_kind: 'percent' | 'amount' | null;
  discount_value: number | null;
  override_reason: string | null;
  original_price: number | null;
  net: number | null;
  tax: number | null;
  course: number;
  seat: number | null;
  sent_quantity: number;
  sent_note: string | null;
  void_reason: string | null;
  comp_reason: string | null;
  created_at: Date;
}

export interface ModifierRow {
  id: number;
  line_id: number;
  modifier_id: number;
  group_name: string;
  name: string;
  price_delta: number;
}

export const lockOrder = (trx: DbOrTrx, id: number): Promise<OrderRow | undefined> => trx('orders').where({ id }).forUpdate().first();

// json_agg turns timestamptz into ISO text: these are the Date columns of rows read that way
const asDate = (v: unknown) => (v == null ? null : new Date(v as string));
export const linesFromJson = (rows: LineRow[]): LineRow[] => rows.map((l) => ({ ...l, created_at: asDate(l.created_at)! }));
export const datedFromJson = <T extends { created_at: Date }>(rows: T[] | null): T[] => (rows ?? []).map((r) => ({ ...r, created_at: asDate(r.created_at)! }));

// aliases inside json_agg are spelled so that no column of orders or tables (x, y…) can shadow them
export const LINES_JSON = `coalesce((select json_agg(ol_row order by ol_row.id) from order_lines ol_row where ol_row.order_id = o.id), '[]')`;
/** The name of the order's table (null: not a table check). */
export const TABLE_NAME = '(select t.name from tables t where t.id = o.table_id)';
/** The order's payments, oldest first (null: none). */
export const PAYMENTS_JSON = '(select json_agg(pay_row order by pay_row.id) from payments pay_row where pay_row.order_id = o.id)';
/** The version of the order as the statement's snapshot saw it (see lockOrderWithLines). */
export const SNAPSHOT_VERSION = '(select v_snap.version from orders v_snap where v_snap.id = o.id) as x_snapshot_version';
/**
 * The order's line modifiers, found line by line through the line_id index: a join the planner
 * may turn into a hash join over the whole table; after a restart the bench saw this statement
 * read order_line_modifiers in full (30 million rows in a 50-terminal rush). `offset 0` keeps the
 * lateral subquery from being flattened back into that join.
 */
export const MODS_JSON = `coalesce((select json_agg(olm_row order by olm_row.id) from order_lines olm_line
  cross join lateral (select * from order_line_modifiers olm_m where olm_m.line_id = olm_line.id offset 0) olm_row
  where olm_line.order_id = o.id), '[]')`;

/** JSON the order reads bring along (`x_` columns), as PostgreSQL sends it: dates as text until *FromJson. */
export interface OrderReadColumns {
  x_lines: LineRow[];
  x_mods: ModifierRow[];
  x_table_name: string | null;
  x_payments: PaymentRow[] | null;
  /** the order's version as the statement's snapshot saw it (see lockOrderWithLines) */
  x_snapshot_version: number;
}

export interface LockedOrder {
  order: OrderRow;
  lines: LineRow[];
  product?: ProductWithGroups;
  /** with opts.forView, when the lines came from this statement: what the order's screen also shows */
  forView?: { tableName: string | null; modifiers: ModifierRow[]; payments: PaymentRow[] };
}

/** A product with its tax rate and modifier groups (PRODUCT_WITH_GROUPS_SQL), or undefined. */
export async function productWithGroupsById(db: DbOrTrx, id: number): Promise<ProductWithGroups | undefined> {
  return productWithGroups((await query<NonNullable<Parameters<typeof productWithGroups>[0]>>(db, PRODUCT_WITH_GROUPS_SQL, [id])).rows[0]);
}

/**
 * The order row locked FOR UPDATE together with its lines, in one round trip.
 *
 * Under READ COMMITTED the lock is taken on the newest row version, but a subquery reads the
 * statement's snapshot: when this statement had to wait for another transaction's lock, the
 * lines it read may predate that transaction's commit. Every change to an order's lines bumps
 * the order's version in the same transaction, so the version the snapshot saw tells: when it
 * differs from the locked row's, the lines are read again, now under the lock.
 */
export async function lockOrderWithLines(trx: DbOrTrx, id: number, opts: { productId?: number; forView?: boolean } = {}): Promise<LockedOrder | undefined> {
  // a new line's product rides along (not locked: the catalog is read as of this statement)
  const withProduct = opts.productId !== undefined;
  const res = await query<OrderRow & Pick<OrderReadColumns, 'x_lines' | 'x_snapshot_version'> & Partial<OrderReadColumns> & { x_product?: Parameters<typeof productWithGroups>[0] }>(trx,
    `select o.*, ${LINES_JSON} as x_lines, ${SNAPSHOT_VERSION}
       ${withProduct ? `, (select row_to_json(product_row) from (${PRODUCT_WITH_GROUPS_SQL}) product_row) as x_product` : ''}
       ${opts.forView ? `, ${TABLE_NAME} as x_table_name, ${MODS_JSON} as x_mods,
          case when o.paid_total > 0 then ${PAYMENTS_JSON} end as x_payments` : ''}
     from orders o where o.id = ? for update of o`,
    withProduct ? [opts.productId!, id] : [id],
  );
  const row = res.rows[0];
  if (!row) return undefined;
  const { x_lines, x_snapshot_version, x_product, x_table_name, x_mods, x_payments, ...order } = row;
  const fresh = x_snapshot_version === order.version;
  return {
    order,
    lines: fresh ? linesFromJson(x_lines) : await orderLines(trx, id),
    ...(withProduct ? { product: productWithGroups(x_product) } : {}),
    ...(opts.forView && fresh ? { forView: { tableName: x_table_name ?? null, modifiers: x_mods ?? [], payments: datedFromJson(x_payments ?? null) } } : {}),
  };
}

export interface PaymentRow {
  id: number;
  order_id: number;
  method: string;
  amount: number;
  tendered: number;
  change: number;
  tip: number;
  idempotency_key: string;
  created_at: Date;
}

/**
 * For a tender: the order locked, with its lines, their modifiers, its payments and the payment
 * an idempotency key already made (on any order), in one round trip; read again under the lock
 * when the statement waited for it (see lockOrderWithLines).
 */
export async function lockOrderForTender(trx: DbOrTrx, id: number, idempotencyKey: string): Promise<{
  order: OrderRow; lines: LineRow[]; modifiers: ModifierRow[]; payments: PaymentRow[]; prior: PaymentRow | undefined;
  /** the order's table's name (undefined: not read, when the lines were read again) */
  tableName?: string | null;
} | undefined> {
  const res = await query<OrderRow & OrderReadColumns & { x_prior: PaymentRow | null }>(
    trx,
    `select o.*, ${LINES_JSON} as x_lines, ${MODS_JSON} as x_mods, ${TABLE_NAME} as x_table_name, ${PAYMENTS_JSON} as x_payments,
       (select row_to_json(key_row) from payments key_row where key_row.idempotency_key = ?) as x_prior,
       ${SNAPSHOT_VERSION}
     from orders o where o.id = ? for update of o`,
    [idempotencyKey, id],
  );
  const row = res.rows[0];
  if (!row) return undefined;
  const { x_lines, x_mods, x_payments, x_prior, x_snapshot_version, x_table_name, ...order } = row;
  if (x_snapshot_version !== order.version) {
    const lines = await orderLines(trx, id);
    return {
      order, lines, modifiers: await lineModifiers(trx, lines.map((l) => l.id)),
      payments: await trx('payments').where({ order_id: id }).orderBy('id'),
      prior: await trx('payments').where({ idempotency_key: idempotencyKey }).first(),
    };
  }
  return { order, lines: linesFromJson(x_lines), modifiers: x_mods, payments: datedFromJson(x_payments), prior: x_prior ? datedFromJson([x_prior])[0] : undefined, tableName: x_table_name };
}

// order_lines' columns a new line sets, with their types (for a guarded insert's select list)
const NEW_LINE_COLUMNS = {
  order_id: 'bigint', product_id: 'bigint', name: 'text', base_price: 'bigint', unit_price: 'bigint', quantity: 'int', note: 'text',
  tax_rate_id: 'bigint', tax_name: 'text', tax_ppm: 'int', course: 'int', seat: 'int', created_at: 'timestamptz',
} as const;
export type NewLineRow = Omit<LineRow, 'id' | 'discount_kind' | 'discount_value' | 'override_reason' | 'original_price' | 'net' | 'tax' | 'sent_quantity' | 'sent_note' | 'void_reason' | 'comp_reason'>;

const NEW_MODS_SQL = `insert into order_line_modifiers (line_id, modifier_id, group_name, name, price_delta)
            select new_line.id, x.modifier_id, x.group_name, x.name, x.price_delta
            from new_line, json_to_recordset(?::json) as x(modifier_id bigint, group_name text, name text, price_delta bigint)
            returning *`;
const NEW_LINE_RESULT = 'select new_line.*, (select coalesce(json_agg(nm_row order by nm_row.id), \'[]\') from new_mods nm_row) as x_mods from new_line';

/**
 * Inserts a line and its modifiers only if `guard` (an update of the order: its new totals and
 * version, where it is still at the version they were computed from) changes a row: the
 * update, the line and the modifiers in one statement, committed on its own. Undefined when the
 * guard matched nothing (and nothing was written). The update takes the order row's lock; under
 * READ COMMITTED, a concurrent change that commits first makes PostgreSQL check the guard again
 * against the row it left, so two terminals on one check still serialise.
 */
export async function insertLineIfOrderAt(
  db: DbOrTrx,
  line: NewLineRow,
  modifiers: Array<Omit<ModifierRow, 'id' | 'line_id'>>,
  guard: Write,
): Promise<{ line: LineRow; modifiers: ModifierRow[] } | undefined> {
  const cols = Object.keys(NEW_LINE_COLUMNS) as Array<keyof typeof NEW_LINE_COLUMNS>;
  const res = await query<LineRow & { x_mods: ModifierRow[] }>(
    db,
    `with guard as (${guard.sql} returning 1),
          new_line as (insert into order_lines (${cols.join(', ')})
            select ${cols.map((c) => `?::${NEW_LINE_COLUMNS[c]}`).join(', ')} from guard returning *),
          new_mods as (${NEW_MODS_SQL})
     ${NEW_LINE_RESULT}`,
    [...guard.bindings, ...cols.map((c) => line[c]), JSON.stringify(modifiers)],
  );
  const row = res.rows[0];
  if (!row) return undefined;
  const { x_mods, ...stored } = row;
  return { line: stored, modifiers: x_mods };
}

/** Inserts a line and its modifiers in one statement; returns the line as stored. */
export async function insertLineWithModifiers(
  trx: DbOrTrx,
  line: NewLineRow,
  modifiers: Array<Omit<ModifierRow, 'id' | 'line_id'>>,
  opts: { also?: Write[]; commitAfter?: boolean } = {},
): Promise<{ line: LineRow; modifiers: ModifierRow[] }> {
  const cols = Object.keys(NEW_LINE_COLUMNS) as Array<keyof typeof NEW_LINE_COLUMNS>;
  const also = opts.also ?? [];
  const res = await query<LineRow & { x_mods: ModifierRow[] }>(
    trx,
    `with new_line as (insert into order_lines (${cols.join(', ')}) values (${cols.map(() => '?').join(', ')}) returning *),
          new_mods as (${NEW_MODS_SQL})${also.map((w, i) => `,
          also_${i} as (${w.sql})`).join('')}
     ${NEW_LINE_RESULT}`,
    [...cols.map((c) => line[c]), JSON.stringify(modifiers), ...also.flatMap((w) => w.bindings)],
    { commitAfter: opts.commitAfter },
  );
  const { x_mods, ...row } = res.rows[0];
  return { line: row, modifiers: x_mods };
}

export interface OrderBundle {
  order: OrderRow;
  tableName: string | null;
  lines: LineRow[];
  modifiers: ModifierRow[];
  /** only read when the order has payments (paid_total > 0 or paid) */
  payments: PaymentRow[];
  /** only read for a paid order */
  refunds: Array<{ id: number; receipt_no: number; reason: string; total: number; created_at: Date }>;
  refundedByLine: Map<number, { quantity: number; net: number; tax: number }>;
}

/** Everything an order's screen shows, in one statement: order, table, lines, modifiers, payments, refunds. */
export async function loadOrderBundle(db: DbOrTrx, id: number): Promise<OrderBundle | undefined> {
  type Refunded = { order_line_id: number; quantity: number; net: number; tax: number };
  const res = await query<OrderRow & Omit<OrderReadColumns, 'x_snapshot_version'> & { x_refunds: OrderBundle['refunds'] | null; x_refunded: Refunded[] | null }>(db,
    `select o.*, t.name as x_table_name, ${LINES_JSON} as x_lines, ${MODS_JSON} as x_mods,
       case when o.paid_total > 0 or o.status = 'paid' then ${PAYMENTS_JSON} end as x_payments,
       case when o.status = 'paid' then (select json_agg(rf_row order by rf_row.id) from refunds rf_row where rf_row.order_id = o.id) end as x_refunds,
       case when o.status = 'paid' then (
         select json_agg(rfl_row) from (
           select rl.order_line_id, sum(rl.quantity)::int as quantity, sum(rl.net)::bigint as net, sum(rl.tax)::bigint as tax
           from refund_lines rl join refunds r on r.id = rl.refund_id where r.order_id = o.id group by rl.order_line_id
         ) rfl_row) end as x_refunded
     from orders o left join tables t on t.id = o.table_id where o.id = ?`,
    [id],
  );
  const row = res.rows[0];
  if (!row) return undefined;
  const { x_table_name, x_lines, x_mods, x_payments, x_refunds, x_refunded, ...order } = row;
  return {
    order,
    tableName: x_table_name,
    lines: linesFromJson(x_lines),
    modifiers: x_mods,
    payments: datedFromJson(x_payments),
    refunds: datedFromJson(x_refunds),
    refundedByLine: new Map((x_refunded ?? []).map((r) => [
      r.order_line_id, { quantity: r.quantity, net: r.net, tax: r.tax },
    ])),
  };
}
export const findOrder = (db: DbOrTrx, id: number): Promise<OrderRow | undefined> => db('orders').where({ id }).first();
export const orderLines = (db: DbOrTrx, orderId: number): Promise<LineRow[]> => db('order_lines').where({ order_id: orderId }).orderBy('id');

export async function lineModifiers(db: DbOrTrx, lineIds: number[]): Promise<ModifierRow[]> {
  if (!lineIds.length) return [];
  return db('order_line_modifiers').whereIn('line_id', lineIds).orderBy('id');
}

export async function nextOrderNumber(trx: DbOrTrx, businessDate: string): Promise<number> {
  const rows = await trx.raw(
    `insert into order_counters (business_date, last_number) values (?, 1)
     on conflict (business_date) do update set last_number = order_counters.last_number + 1
     returning last_number`,
    [businessDate],
  );
  return rows.rows[0].last_number;
}


export async function refundedByLine(db: DbOrTrx, orderId: number): Promise<Map<number, { quantity: number; net: number; tax: number }>> {
  const rows = await db('refund_lines as rl')
    .join('refunds as r', 'r.id', 'rl.refund_id')
    .where('r.order_id', orderId)
    .groupBy('rl.order_line_id')
    .select('rl.order_line_id')
    .sum({ quantity: 'rl.quantity', net: 'rl.net', tax: 'rl.tax' });
  return new Map(
    (rows as unknown as Array<{ order_line_id: number; quantity: string; net: string; tax: string }>).map((r) => [
      r.order_line_id,
      { quantity: Number(r.quantity), net: Number(r.net), tax: Number(r.tax) },
    ]),
  );
}

/**
 * The condition that finds open orders, written out rather than bound: the indexes of open orders
 * are partial (`where status = 'open'`, migration 0012), and a plan made for a bound status
 * cannot use them.
 */
export function isOpen(alias?: string): string {
  return `${alias ? `${alias}.` : ''}status = 'open'`;
}

export function openOrders(db: DbOrTrx) {
  return db('orders').whereRaw(isOpen()).orderBy('id', 'desc').limit(200);
}
