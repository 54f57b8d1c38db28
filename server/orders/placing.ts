import { conflict } from '../errors';
import { changeOrder, lineOf, type OrderDeps } from './change';
import type { EditOptions } from './lines';
import type { OrderRow } from './queries';

/**
 * How an order is served: its type (counter, take-away, dine-in), and where a line goes at a
 * table (its course and seat). Each one changeOrder; neither touches the totals.
 */

/** Changes the order's type: a sale started by a tap is a counter sale until told otherwise. */
export function setOrderType(deps: OrderDeps, orderId: number, type: OrderRow['type'], opts: EditOptions = {}) {
  return changeOrder(deps, orderId, async (trx, { order }) => {
    if (order.type === type) return;
    if (order.table_id !== null) throw conflict(`Order #${order.number} is at a table, so it stays dine-in.`, 'order-at-table');
    // held courses are table service: an order leaving it has none (its lines go with the next send)
    await trx('orders').where({ id: orderId }).update({ type, ...(type === 'dine_in' ? {} : { held_courses: [] }) });
  }, { totalsUnchanged: true, drawnAt: opts.drawnAt });
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
