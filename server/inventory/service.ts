import type { Clock } from '../clock';
import { inTransaction, type Db, type DbOrTrx, type Trx } from '../db/knex';
import { audit } from '../audit/service';
import { conflict, invalid, notFound, unprocessable } from '../errors';
import type { Publisher } from '../events';
import { getSettings } from '../settings/service';
import { afterChange, announceStock, insertMovement, type MovementRow, type StockAlert } from './stock';

// What other features reach of stock: the sale's decrement (server/orders/tender.ts closeSale)
// and its announcement after commit.
export { announceStock, checkStock, takeStockForSale, type StockAlert } from './stock';

export interface InventoryDeps {
  db: Db;
  clock: Clock;
  events: Publisher;
}

export type AdjustReason = 'received' | 'waste' | 'count';
export const ADJUST_REASONS: readonly AdjustReason[] = ['received', 'waste', 'count'];

export interface Adjustment {
  productId: number;
  reason: AdjustReason;
  /** received or wasted: how many (more than zero); count: how many were counted (zero or more) */
  quantity: number;
  note?: string | null;
  /** a retried request with the same key counts once and answers the first outcome */
  idempotencyKey?: string | null;
}

export interface Who {
  staffId: number | null;
  terminalId?: number | null;
  approvedBy?: number | null;
}

const MAX_STOCK = 1_000_000;

/**
 * A stock adjustment: goods received, wasted, or a count that sets what is on hand. One
 * transaction: the product locked, its stock changed, the movement and the audit row (with the
 * staff member) written; terminals are told after the commit. A product nobody counted starts
 * being counted with a delivery or a count; waste of one is refused.
 */
export async function adjustStock(deps: InventoryDeps, a: Adjustment, who: Who): Promise<MovementRow> {
  const { movement, alerts } = await inTransaction(deps.db, (trx) => adjustIn(trx, deps.clock, a, who));
  announceStock(deps.events, alerts);
  deps.events.publish('catalog:changed', {});
  return movement;
}

/** Several adjustments in one transaction (the stock-count sheet): all saved, or none. */
export async function adjustMany(deps: InventoryDeps, list: readonly Adjustment[], who: Who): Promise<MovementRow[]> {
  const done = await inTransaction(deps.db, async (trx) => {
    const out: Array<{ movement: MovementRow; alerts: StockAlert[] }> = [];
    for (const a of [...list].sort((x, y) => x.productId - y.productId)) out.push(await adjustIn(trx, deps.clock, a, who));
    return out;
  });
  announceStock(deps.events, done.flatMap((d) => d.alerts));
  if (done.length) deps.events.publish('catalog:changed', {});
  return done.map((d) => d.movement);
}

/** An adjustment inside the caller's transaction (the catalog's CSV import sets counted stock this way); the caller announces the alerts after its commit. */
export async function adjustIn(trx: Trx, clock: Clock, a: Adjustment, who: Who): Promise<{ movement: MovementRow; alerts: StockAlert[] }> {
  if (!Number.isSafeInteger(a.quantity) || a.quantity < 0 || a.quantity > MAX_STOCK) {
    throw invalid(`The quantity must be a whole number from 0 to ${MAX_STOCK}.`, [{ field: 'quantity', message: 'out of range' }]);
  }
  if (a.reason !== 'count' && a.quantity === 0) throw invalid('The quantity must be more than zero.', [{ field: 'quantity', message: 'must be more than zero' }]);
  if (a.idempotencyKey) {
    const prior: MovementRow | undefined = await trx('stock_movements').where({ idempotency_key: a.idempotencyKey }).first();
    if (prior) {
      if (prior.product_id !== a.productId || prior.reason !== a.reason) throw unprocessable('This idempotency key was already used for a different adjustment.', 'idempotency-mismatch');
      return { movement: prior, alerts: [] };
    }
  }
  const product = await trx('products').where({ id: a.productId }).forUpdate().first('id', 'name', 'stock', 'low_stock_at', 'available', 'active');
  if (!product || !product.active) throw notFound('That product');
  if (product.stock === null && a.reason === 'waste') throw conflict(`${product.name} is not counted: count it first, then record waste.`, 'stock-not-counted');
  const before: number = product.stock ?? 0;
  const after = a.reason === 'received' ? before + a.quantity : a.reason === 'waste' ? before - a.quantity : a.quantity;
  if (Math.abs(after) > MAX_STOCK) throw invalid(`Stock must stay within ${MAX_STOCK}.`, [{ field: 'quantity', message: 'out of range' }]);
  await trx('products').where({ id: a.productId }).update({ stock: after });
  const movement = await insertMovement(trx, clock, {
    productId: a.productId, delta: after - before, stockAfter: after, reason: a.reason, staffId: who.staffId, note: a.note?.trim() || null, idempotencyKey: a.idempotencyKey ?? null,
  });
  await audit(trx, clock, {
    action: 'stock_adjusted', staffId: who.staffId, terminalId: who.terminalId, approvedBy: who.approvedBy,
    details: { productId: a.productId, product: product.name, reason: a.reason, from: product.stock, to: after, delta: after - before, ...(movement.note ? { note: movement.note } : {}) },
  });
  const settings = await getSettings(trx);
  const alert = await afterChange(trx, settings, { ...product, stock: after }, before);
  return { movement, alerts: alert ? [alert] : [] };
}

export interface StockRow {
  id: number;
  name: string;
  category: string;
  stock: number | null;
  low_stock_at: number | null;
  available: boolean;
}

/** Products with their stock (counted ones only, unless `all`), by category and position. */
export function listStock(db: DbOrTrx, opts: { all?: boolean } = {}): Promise<StockRow[]> {
  const q = db('products as p').join('categories as c', 'c.id', 'p.category_id').where('p.active', true)
    .orderBy(['c.position', 'c.id', 'p.position', 'p.id']).select('p.id', 'p.name', 'c.name as category', 'p.stock', 'p.low_stock_at', 'p.available');
  if (!opts.all) q.whereNotNull('p.stock');
  return q;
}

/** The latest stock movements (of one product when given), newest first, with who made them. */
export function listMovements(db: DbOrTrx, opts: { productId?: number; limit?: number } = {}) {
  const q = db('stock_movements as m').join('products as p', 'p.id', 'm.product_id').leftJoin('staff as s', 's.id', 'm.staff_id')
    .orderBy('m.id', 'desc').limit(opts.limit ?? 100).select('m.*', 'p.name as product_name', 's.name as staff_name');
  if (opts.productId) q.where('m.product_id', opts.productId);
  return q as Promise<Array<MovementRow & { product_name: string; staff_name: string | null }>>;
}
