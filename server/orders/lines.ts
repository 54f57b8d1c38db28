import type { Trx } from '../db/knex';
import { audit } from '../audit/service';
import { conflict, invalid, unprocessable } from '../errors';
import type { Minor } from '../money';
import { changeOrder, lineOf, type Actor, type Authorize, type Locked, type OrderDeps } from './change';
import { addLineIn, type NewLine } from './open';
import { claimRequestKey } from './request-keys';
import { MAX_QTY } from './schema';
import { discountValue, toDiscount, toMinor } from './totals';

/** Line changes on an open order: each one changeOrder (lock, read, rule, write, commit, tell). */

/**
 * Adds a line; returns its id. With `requestKey` (a terminal's tap, ./request-keys.ts) a retry of
 * a tap already made adds nothing and returns null.
 */
export function addLine(deps: OrderDeps, orderId: number, input: NewLine): Promise<number>;
export function addLine(deps: OrderDeps, orderId: number, input: NewLine, requestKey: string | undefined): Promise<number | null>;
export function addLine(deps: OrderDeps, orderId: number, input: NewLine, requestKey?: string): Promise<number | null> {
  return changeOrder(deps, orderId, async (trx, { settings, order }) => {
    if (requestKey && !(await claimRequestKey(trx, deps.clock, requestKey, orderId))) return null;
    return addLineIn(trx, deps.clock, orderId, settings, input, order.type);
  });
}

/** For a caller that settled permissions itself (a test, a trusted internal caller): nothing more to ask. */
const settled: Authorize = async () => {};

/** How an edit of an existing value was asked for. */
export interface EditOptions {
  /** answers a permission the rule finds it needs under the lock (default: none to ask) */
  authorize?: Authorize;
  /** the order's version on the screen the edit was made on: refused when the order moved on since */
  drawnAt?: number;
}

/**
 * Sets a line's quantity: `quantity` (absolute, from a form that types one) or `delta` (the
 * "+" and "−" buttons: one more or one less than the line has now, whatever the page showed).
 * Below what the kitchen already has, it is a void of sent items: it needs a reason and the
 * order:void-sent permission, asked here, under the order's lock, from the line as it is.
 */
export function setQuantity(
  deps: OrderDeps, orderId: number, lineId: number, change: { quantity: number } | { delta: number }, actor: Actor = {}, reason?: string, opts: EditOptions = {},
) {
  return changeOrder(deps, orderId, async (trx, locked) => {
    const line = lineOf(locked, lineId);
    const quantity = 'delta' in change ? line.quantity + change.delta : change.quantity;
    if (quantity === line.quantity) return;
    if (quantity < 0) throw unprocessable(`${line.name} is already at ${line.quantity}; there is nothing to take off.`, 'quantity-below-zero');
    if (quantity > MAX_QTY) throw unprocessable(`A line holds at most ${MAX_QTY}.`, 'quantity-too-large');
    if (quantity < line.sent_quantity) {
      await voidSent(trx, deps, locked, lineId, quantity, actor, reason, opts.authorize ?? settled);
      return;
    }
    if (quantity === 0) await trx('order_lines').where({ id: lineId }).delete();
    else await trx('order_lines').where({ id: lineId }).update({ quantity });
  }, { drawnAt: 'quantity' in change ? opts.drawnAt : undefined, authorize: opts.authorize });
}

/** Takes back items the kitchen already has: a reason, the permission, an audit row; the line stays for the kitchen's VOID. */
async function voidSent(trx: Trx, deps: OrderDeps, locked: Locked, lineId: number, quantity: number, actor: Actor, reason: string | undefined, authorize: Authorize) {
  const line = lineOf(locked, lineId);
  if (!reason) throw invalid('The kitchen already has this item: give a reason to void it.', [{ field: 'reason', message: 'required to void a sent item' }]);
  await authorize('order:void-sent');
  await trx('order_lines').where({ id: lineId }).update({ quantity, void_reason: reason });
  await audit(trx, deps.clock, {
    action: 'void', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId,
    details: { orderId: locked.order.id, lineId, product: line.name, from: line.quantity, to: quantity, sent: line.sent_quantity, reason },
  });
}

/** Removes a line the kitchen never saw; a sent line is voided instead (quantity 0, kept for the kitchen's VOID). */
export function removeLine(deps: OrderDeps, orderId: number, lineId: number, actor: Actor = {}, reason?: string, opts: EditOptions = {}) {
  return changeOrder(deps, orderId, async (trx, locked) => {
    const line = lineOf(locked, lineId);
    if (line.sent_quantity > 0) return voidSent(trx, deps, locked, lineId, 0, actor, reason, opts.authorize ?? settled);
    await trx('order_lines').where({ id: lineId }).delete();
  }, { authorize: opts.authorize });
}

/** A comp: made and given away. It comes off the bill, counts in the comps figures, needs a reason. */
export function compLine(deps: OrderDeps, orderId: number, lineId: number, reason: string, actor: Actor = {}) {
  return changeOrder(deps, orderId, async (trx, locked) => {
    const line = lineOf(locked, lineId);
    if (line.quantity === 0) throw conflict('A voided line cannot be comped.', 'line-voided');
    await trx('order_lines').where({ id: lineId }).update({ comp_reason: reason, comp_approved_by: actor.approvedBy ?? null });
    await audit(trx, deps.clock, {
      action: 'comp', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId,
      details: { orderId, lineId, product: line.name, quantity: line.quantity, value: line.unit_price * line.quantity, reason },
    });
  });
}

export function setNote(deps: OrderDeps, orderId: number, lineId: number, note: string | null, opts: EditOptions = {}) {
  return changeOrder(deps, orderId, async (trx, locked) => {
    lineOf(locked, lineId);
    await trx('order_lines').where({ id: lineId }).update({ note });
  }, opts);
}

export function overridePrice(deps: OrderDeps, orderId: number, lineId: number, price: string, reason: string, actor: Actor = {}, opts: EditOptions = {}) {
  return changeOrder(deps, orderId, async (trx, locked) => {
    const line = lineOf(locked, lineId);
    const base = toMinor(price, locked.settings.currency, 'price');
    const mods = await trx('order_line_modifiers').where({ line_id: lineId }).sum({ d: 'price_delta' });
    const delta = Number(mods[0].d ?? 0);
    await trx('order_lines').where({ id: lineId }).update({
      base_price: base, unit_price: Math.max(0, base + delta), override_reason: reason, original_price: line.original_price ?? line.base_price,
    });
    await audit(trx, deps.clock, {
      action: 'price_override', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId,
      details: { orderId, lineId, product: line.name, from: line.base_price, to: base, reason },
    });
  }, opts);
}

export function setLineDiscount(deps: OrderDeps, orderId: number, lineId: number, kind: 'percent' | 'amount' | 'none', value?: string, actor: Actor = {}, opts: EditOptions = {}) {
  return changeOrder(deps, orderId, async (trx, locked) => {
    lineOf(locked, lineId);
    const d = toDiscount(kind, value, locked.settings.currency); // over the store's limit: changeOrder asks (./discount-limit.ts)
    await trx('order_lines').where({ id: lineId }).update({ discount_kind: d?.kind ?? null, discount_value: discountValue(d) });
    await audit(trx, deps.clock, { action: 'discount', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId, details: { orderId, lineId, discount: d } });
  }, opts);
}

export function setOrderDiscount(deps: OrderDeps, orderId: number, kind: 'percent' | 'amount' | 'none', value?: string, actor: Actor = {}, opts: EditOptions = {}) {
  return changeOrder(deps, orderId, async (trx, locked) => {
    const d = toDiscount(kind, value, locked.settings.currency); // over the store's limit: changeOrder asks (./discount-limit.ts)
    await trx('orders').where({ id: orderId }).update({ discount_kind: d?.kind ?? null, discount_value: discountValue(d) });
    await audit(trx, deps.clock, { action: 'discount', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId, details: { orderId, discount: d } });
  }, opts);
}

export function setCustomerName(deps: OrderDeps, orderId: number, name: string, opts: EditOptions = {}) {
  return changeOrder(deps, orderId, async (trx) => {
    await trx('orders').where({ id: orderId }).update({ customer_name: name || null });
  }, opts);
}

export function setParked(deps: OrderDeps, orderId: number, parked: boolean) {
  return changeOrder(deps, orderId, async (trx) => {
    await trx('orders').where({ id: orderId }).update({ parked });
  });
}

/** Comps of a business date: lines given away on orders that were paid (value at their price). */
export async function compsFor(db: OrderDeps['db'] | Trx, businessDate: string): Promise<{ count: number; value: Minor; lines: Array<{ name: string; quantity: number; value: number; reason: string }> }> {
  const rows = await db('order_lines as l')
    .join('orders as o', 'o.id', 'l.order_id')
    .where({ 'o.business_date': businessDate, 'o.status': 'paid' })
    .whereNotNull('l.comp_reason')
    .select('l.name', 'l.quantity', 'l.unit_price', 'l.comp_reason');
  const lines = rows.map((r: { name: string; quantity: number; unit_price: number; comp_reason: string }) => ({ name: r.name, quantity: r.quantity, value: r.unit_price * r.quantity, reason: r.comp_reason }));
  return { count: lines.reduce((s, l) => s + l.quantity, 0), value: lines.reduce((s, l) => s + l.value, 0), lines };
}
