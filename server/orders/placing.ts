import { conflict } from '../errors';
import { changeOrder, lineOf, type OrderDeps } from './change';
import type { EditOptions } from './lines';
import type { LineRow, OrderRow } from './queries';
import type { Trx } from '../db/knex';
import { taxRatesFor } from '../catalog/service';
import { recompute } from './totals';

/**
 * How an order is served: its type (counter, take-away, dine-in), and where a line goes at a
 * table (its course and seat). Each one changeOrder; only a type that changes a line's tax rate
 * touches the totals.
 */

/**
 * Changes the order's type: a sale started by a tap is a counter sale until told otherwise. Its
 * lines are taxed afresh at their products' rates for the new type (a product may have one per
 * order type: EU VAT on eat-in against take-away), and the totals with them.
 */
export function setOrderType(deps: OrderDeps, orderId: number, type: OrderRow['type'], opts: EditOptions = {}) {
  return changeOrder(deps, orderId, async (trx, { order, lines, settings }) => {
    if (order.type === type) return;
    if (order.table_id !== null) throw conflict(`Order #${order.number} is at a table, so it stays dine-in.`, 'order-at-table');
    // held courses are table service: an order leaving it has none (its lines go with the next send)
    await trx('orders').where({ id: orderId }).update({ type, ...(type === 'dine_in' ? {} : { held_courses: [] }) });
    // only a line whose tax changed moves the totals (and voids a split part's split-time tax adjustment)
    if (await retaxLines(trx, lines, type)) await recompute(trx, deps.clock, order, settings, undefined, order.tax_adjustments !== null);
  }, { totalsUnchanged: true, drawnAt: opts.drawnAt });
}

/** Each line taxed at its product's rate for an order of `type`; lines already at that rate are left alone. Returns how many changed. */
async function retaxLines(trx: Trx, lines: LineRow[], type: OrderRow['type']): Promise<number> {
  const rates = await taxRatesFor(trx, [...new Set(lines.flatMap((l) => (l.product_id === null ? [] : [l.product_id])))], type);
  let changed = 0;
  for (const l of lines) {
    const r = l.product_id === null ? undefined : rates.get(l.product_id);
    if (r && r.id !== l.tax_rate_id) {
      await trx('order_lines').where({ id: l.id }).update({ tax_rate_id: r.id, tax_name: r.name, tax_ppm: r.ppm });
      changed++;
    }
  }
  return changed;
}

/** Sets a line's course and seat; a line the kitchen already has keeps what it was sent with. */
export function setLinePlace(deps: OrderDeps, orderId: number, lineId: number, place: { course: number; seat: number | null }, opts: EditOptions = {}) {
  return changeOrder(deps, orderId, async (trx, locked) => {
    const line = lineOf(locked, lineId);
    if (line.course === place.course && line.seat === place.seat) return;
    if (line.sent_quantity > 0) throw conflict('The kitchen already has this item: its course and seat stay as sent.', 'line-sent');
    await trx('order_lines').where({ id: lineId }).update({ course: place.course, seat: place.seat });
  }, { totalsUnchanged: true, drawnAt: opts.drawnAt });
}
