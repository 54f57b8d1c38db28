import type { DbOrTrx } from '../db/knex';

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
  void_idempotency_key: string | null;
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

/** The order row, locked FOR UPDATE until the transaction ends: every change to an order takes this first. */
export const lockOrder = (trx: DbOrTrx, id: number): Promise<OrderRow | undefined> => trx('orders').where({ id }).forUpdate().first();

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
  /** cash is succeeded when written; a card payment is pending until Stripe settles it (server/payments/) */
  status: 'pending' | 'succeeded' | 'failed' | 'canceled';
  staff_id: number | null;
  terminal_id: number | null;
  stripe_payment_intent_id: string | null;
  stripe_charge_id: string | null;
  card_brand: string | null;
  card_last4: string | null;
}

/** The order's payments that count: a pending, failed or canceled card payment never does. */
export const orderPayments = (db: DbOrTrx, orderId: number): Promise<PaymentRow[]> => db('payments').where({ order_id: orderId, status: 'succeeded' }).orderBy('id');
export const paymentByKey = (db: DbOrTrx, key: string): Promise<PaymentRow | undefined> => db('payments').where({ idempotency_key: key }).first();

export type NewLineRow = Omit<LineRow, 'id' | 'discount_kind' | 'discount_value' | 'override_reason' | 'original_price' | 'net' | 'tax' | 'sent_quantity' | 'sent_note' | 'void_reason' | 'comp_reason'>;

/** Inserts a line and its modifiers; returns the line as stored. */
export async function insertLine(trx: DbOrTrx, line: NewLineRow, modifiers: Array<Omit<ModifierRow, 'id' | 'line_id'>>): Promise<LineRow> {
  const [row] = await trx('order_lines').insert(line).returning('*');
  if (modifiers.length) await trx('order_line_modifiers').insert(modifiers.map((m) => ({ ...m, line_id: row.id })));
  return row;
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

/** Everything an order's screen shows: order, table, lines, modifiers, payments, refunds. */
export async function loadOrderBundle(db: DbOrTrx, id: number): Promise<OrderBundle | undefined> {
  const order: (OrderRow & { table_name: string | null }) | undefined = await db('orders as o').leftJoin('tables as t', 't.id', 'o.table_id').where('o.id', id).first('o.*', 't.name as table_name');
  if (!order) return undefined;
  const { table_name, ...row } = order;
  const lines = await orderLines(db, id);
  const paid = row.status === 'paid';
  return {
    order: row,
    tableName: table_name,
    lines,
    modifiers: await lineModifiers(db, lines.map((l) => l.id)),
    payments: row.paid_total > 0 || paid ? await orderPayments(db, id) : [],
    refunds: paid ? await db('refunds').where({ order_id: id, status: 'succeeded' }).orderBy('id') : [], // a pending card refund has no receipt yet
    refundedByLine: paid ? await refundedByLine(db, id) : new Map(),
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

/**
 * The open orders a terminal lists, newest first. Not an empty one (no line, nothing paid): an
 * order exists once it has a line (issue 20), and one left empty (opened through the API, or by
 * an older terminal) is nobody's sale. A seated table's order before its first line is listed:
 * the table is taken.
 */
export function openOrders(db: DbOrTrx): Promise<OrderRow[]> {
  return db('orders as o')
    .whereRaw(isOpen('o'))
    .where((q) => q.whereExists(db('order_lines as l').select(db.raw('1')).whereRaw('l.order_id = o.id')).orWhere('o.paid_total', '>', 0).orWhereNotNull('o.table_id'))
    .orderBy('o.id', 'desc')
    .limit(200)
    .select('o.*');
}
