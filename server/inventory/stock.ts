import type { Clock } from '../clock';
import type { DbOrTrx, Trx } from '../db/knex';
import { conflict } from '../errors';
import type { Publisher } from '../events';
import type { BusinessSettings } from '../settings/schema';

/**
 * Stock per product (issue 24): `products.stock` is null for a product nobody counts, else the
 * units on hand. Every change is a `stock_movements` row written in the transaction that makes
 * it, with the stock it left.
 */

/** What terminals are told after the commit of a change that left a counted product low or out. */
export interface StockAlert {
  productId: number;
  name: string;
  stock: number;
  level: 'low' | 'out';
  /** the change marked it unavailable (86) because the store asks for that at zero */
  madeUnavailable: boolean;
}

export interface SoldLine {
  product_id: number | null;
  quantity: number;
}

type Counted = { id: number; name: string; stock: number; low_stock_at: number | null; available: boolean };

/**
 * Takes a closing sale's items out of stock, inside the transaction that closes it (the order
 * locked). Each counted product's row is changed by one UPDATE, which holds its lock until the
 * commit: concurrent sales of one product queue on it and each sees what the one before left,
 * so with overselling refused exactly the stock there is gets sold (a sale whose money is
 * already taken, by card, is never refused here: checkStock before the card is charged). Products are taken in id
 * order, so two sales of the same products never wait on each other crosswise. A refusal throws
 * 409 `out-of-stock` naming the product and what is left; the caller's transaction (with its
 * payment) rolls back, so no money is taken for it. Returns the alerts to announce after commit.
 */
export async function takeStockForSale(
  trx: Trx, clock: Clock,
  sale: { orderId: number; lines: readonly SoldLine[]; settings: BusinessSettings; staffId?: number | null; /** false: the money is already taken (a card), so the sale closes whatever the stock */ mayRefuse?: boolean },
): Promise<StockAlert[]> {
  const wanted = new Map<number, number>();
  for (const l of sale.lines) if (l.product_id !== null && l.quantity > 0) wanted.set(l.product_id, (wanted.get(l.product_id) ?? 0) + l.quantity);
  const alerts: StockAlert[] = [];
  for (const productId of [...wanted.keys()].sort((a, b) => a - b)) {
    const qty = wanted.get(productId)!;
    const [row]: Counted[] = await trx('products').where({ id: productId }).whereNotNull('stock')
      .update({ stock: trx.raw('stock - ?', [qty]) }).returning(['id', 'name', 'stock', 'low_stock_at', 'available']);
    if (!row) continue; // not counted
    const before = row.stock + qty;
    if (row.stock < 0 && !sale.settings.stockAllowOversell && sale.mayRefuse !== false) {
      throw outOfStock(row.name, before, qty);
    }
    await insertMovement(trx, clock, { productId, delta: -qty, stockAfter: row.stock, reason: 'sale', staffId: sale.staffId, orderId: sale.orderId });
    const alert = await afterChange(trx, sale.settings, row, before);
    if (alert) alerts.push(alert);
  }
  return alerts;
}

/**
 * What a change from `before` to `row.stock` means: crossing zero marks the product 86 when the
 * store asks for that (and a delivery that brings it back makes it available again); crossing
 * the low mark or zero is an alert.
 */
export async function afterChange(trx: Trx, settings: BusinessSettings, row: Counted, before: number): Promise<StockAlert | undefined> {
  let madeUnavailable = false;
  if (settings.stockAutoUnavailable) {
    if (row.stock <= 0 && row.available) {
      await trx('products').where({ id: row.id }).update({ available: false });
      madeUnavailable = true;
    } else if (row.stock > 0 && before <= 0 && !row.available) {
      await trx('products').where({ id: row.id }).update({ available: true });
    }
  }
  if (row.stock <= 0 && before > 0) return { productId: row.id, name: row.name, stock: row.stock, level: 'out', madeUnavailable };
  if (row.low_stock_at !== null && row.stock <= row.low_stock_at && before > row.low_stock_at) return { productId: row.id, name: row.name, stock: row.stock, level: 'low', madeUnavailable };
  if (madeUnavailable) return { productId: row.id, name: row.name, stock: row.stock, level: 'out', madeUnavailable };
  return undefined;
}

/**
 * Refuses, with the same words as the sale's close, an order whose counted products it would
 * take below zero when the store refuses overselling: for a payment that takes money before the
 * sale closes (a card), asked before the card is charged. Reads without locking: the close still decides.
 */
export async function checkStock(db: DbOrTrx, lines: readonly (SoldLine & { name?: string })[], settings: BusinessSettings): Promise<void> {
  if (settings.stockAllowOversell) return;
  const wanted = new Map<number, number>();
  for (const l of lines) if (l.product_id !== null && l.quantity > 0) wanted.set(l.product_id, (wanted.get(l.product_id) ?? 0) + l.quantity);
  if (!wanted.size) return;
  const rows: Array<{ id: number; name: string; stock: number }> = await db('products').whereIn('id', [...wanted.keys()]).whereNotNull('stock').select('id', 'name', 'stock');
  for (const r of rows.sort((a, b) => a.id - b.id)) {
    const qty = wanted.get(r.id)!;
    if (r.stock < qty) throw outOfStock(r.name, r.stock, qty);
  }
}

function outOfStock(name: string, stock: number, qty: number) {
  const left = Math.max(0, stock);
  return conflict(
    left === 0
      ? `${name} is out of stock: take it off the order before paying.`
      : `Only ${left} × ${name} left in stock, and this order has ${qty}: change the quantity before paying.`,
    'out-of-stock',
  );
}

/** Tells terminals, after the commit, what a change left low or out (and which products it marked 86). */
export function announceStock(events: Publisher, alerts: readonly StockAlert[]): void {
  for (const a of alerts) {
    events.publish('stock:alert', { productId: a.productId, name: a.name, stock: a.stock, level: a.level });
    if (a.madeUnavailable) events.publish('product:availability', { productId: a.productId, available: false });
  }
}

export type MovementReason = 'sale' | 'refund' | 'received' | 'waste' | 'count';

export async function insertMovement(
  db: DbOrTrx, clock: Clock,
  m: { productId: number; delta: number; stockAfter: number; reason: MovementReason; staffId?: number | null; orderId?: number | null; note?: string | null; idempotencyKey?: string | null },
) {
  const [row] = await db('stock_movements').insert({
    product_id: m.productId, delta: m.delta, stock_after: m.stockAfter, reason: m.reason, staff_id: m.staffId ?? null, order_id: m.orderId ?? null,
    note: m.note ?? null, idempotency_key: m.idempotencyKey ?? null, created_at: clock.now(),
  }).returning('*');
  return row as MovementRow;
}

export interface MovementRow {
  id: number;
  product_id: number;
  delta: number;
  stock_after: number;
  reason: MovementReason;
  note: string | null;
  staff_id: number | null;
  order_id: number | null;
  idempotency_key: string | null;
  created_at: Date;
}
