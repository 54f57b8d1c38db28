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

export const orderPayments = (db: DbOrTrx, orderId: number) => db('payments').where({ order_id: orderId }).orderBy('id');
export const orderRefunds = (db: DbOrTrx, orderId: number) => db('refunds').where({ order_id: orderId }).orderBy('id');

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

export function openOrders(db: DbOrTrx) {
  return db('orders').where({ status: 'open' }).orderBy('id', 'desc').limit(200);
}
