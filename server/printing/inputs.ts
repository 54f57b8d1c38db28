import type { Clock } from '../clock';
import type { DbOrTrx } from '../db/knex';
import { getOrderView, type OrderView } from '../orders/service';
import { getSettings } from '../settings/service';
import type { GuestCheckInput, KitchenInput, KitchenMarker, ReceiptInput, RefundInput, SlipLine, StoreHeader, TaxLine } from './layouts';

/**
 * The layout inputs of the slips, read from what the rest of the server keeps: an order's screen
 * (orders' service), a send's kitchen tickets. Read inside the caller's transaction, so a slip
 * shows the change it follows and nothing later.
 */

export function storeHeader(settings: OrderView['settings']): StoreHeader {
  return { name: settings.storeName, header: settings.receiptHeader, footer: settings.receiptFooter, currency: settings.currency, timezone: settings.timezone };
}

function slipLines(view: OrderView): SlipLine[] {
  return view.lines.map((l) => ({
    quantity: l.quantity, name: l.name, modifiers: l.modifiers.map((m) => m.name), note: l.note, gross: l.gross, discount: l.discount, comp: l.comp_reason !== null,
  }));
}

const taxLines = (view: OrderView): TaxLine[] => view.taxes.map((t) => ({ name: t.name, percent: t.percent, base: t.base, tax: t.tax }));

/** Who served and where, by name, for an order with no actor at hand (a reprint). */
async function names(db: DbOrTrx, staffId: number | null, terminalId: number | null) {
  const staff = staffId ? ((await db('staff').where({ id: staffId }).first('name'))?.name ?? null) : null;
  const terminal = terminalId ? ((await db('terminals').where({ id: terminalId }).first('name'))?.name ?? null) : null;
  return { staff: staff as string | null, terminal: terminal as string | null };
}

export interface Who {
  staff?: string | null;
  terminal?: string | null;
}

/** A closed sale's receipt. */
export async function receiptInput(db: DbOrTrx, orderId: number, opts: { duplicate: boolean; drawer: boolean; who?: Who }): Promise<ReceiptInput> {
  const view = await getOrderView(db, orderId);
  const { order } = view;
  if (order.receipt_no === null || !order.closed_at) throw new Error(`order ${orderId} has no receipt: it is not a closed sale`);
  const known = await names(db, opts.who?.staff === undefined ? order.staff_id : null, opts.who?.terminal === undefined ? order.terminal_id : null);
  return {
    kind: 'receipt', store: storeHeader(view.settings), orderNumber: order.number, receiptNo: order.receipt_no, table: view.tableName,
    staff: opts.who?.staff ?? known.staff, terminal: opts.who?.terminal ?? known.terminal, at: order.closed_at.toISOString(),
    lines: slipLines(view), discountTotal: view.totals.discountTotal, total: view.totals.total, pricesIncludeTax: view.settings.pricesIncludeTax,
    taxes: taxLines(view), tenders: view.payments.map((p) => ({ method: p.method, amount: p.amount, tendered: p.tendered, change: p.change, tip: p.tip })),
    rounding: order.rounding, duplicate: opts.duplicate, drawer: opts.drawer,
  };
}

/** The bill of an open order (a table, or a split share): "not a receipt". */
export async function guestCheckInput(db: DbOrTrx, clock: Clock, orderId: number, who: Who = {}): Promise<GuestCheckInput> {
  const view = await getOrderView(db, orderId);
  const { order } = view;
  if (order.status !== 'open') throw new Error(`order ${orderId} is not open`);
  const known = await names(db, who.staff === undefined ? order.staff_id : null, null);
  return {
    kind: 'guest-check', store: storeHeader(view.settings), orderNumber: order.number, table: view.tableName, covers: order.covers,
    staff: who.staff ?? known.staff, at: clock.now().toISOString(), lines: slipLines(view), discountTotal: view.totals.discountTotal,
    total: view.totals.total, pricesIncludeTax: view.settings.pricesIncludeTax, taxes: taxLines(view), paid: order.paid_total, due: view.due,
  };
}

/** A refund's receipt, from the refund as recorded. */
export async function refundInput(db: DbOrTrx, refundId: number, duplicate: boolean): Promise<RefundInput> {
  const refund = await db('refunds').where({ id: refundId }).first();
  if (!refund) throw new Error(`no refund ${refundId}`);
  const view = await getOrderView(db, refund.order_id);
  const lines: Array<{ order_line_id: number; quantity: number; net: number; tax: number }> = await db('refund_lines').where({ refund_id: refundId }).orderBy('id');
  const byId = new Map(view.lines.map((l) => [l.id, l]));
  const { staff } = await names(db, refund.staff_id ?? null, null);
  return {
    kind: 'refund', store: storeHeader(view.settings), orderNumber: view.order.number, receiptNo: refund.receipt_no, saleReceiptNo: view.order.receipt_no,
    at: refund.created_at.toISOString(), reason: refund.reason, staff,
    lines: lines.map((l) => ({ quantity: l.quantity, name: byId.get(l.order_line_id)?.name ?? 'Item', amount: l.net + l.tax })),
    total: refund.total, taxTotal: refund.tax_total, duplicate,
  };
}

/** The chits of a kitchen send: one per ticket, for its station's printer. */
export async function kitchenInputs(db: DbOrTrx, ticketIds: number[]): Promise<Array<{ ticketId: number; stationId: number; input: KitchenInput }>> {
  if (!ticketIds.length) return [];
  const tickets: Array<{ id: number; order_id: number; station_id: number; station_name: string; send_no: number; table_name: string | null; server_name: string | null; order_number: number; created_at: Date }> =
    await db('kitchen_tickets as t').join('stations as s', 's.id', 't.station_id').whereIn('t.id', ticketIds).orderBy('t.id').select('t.*', 's.name as station_name');
  const items: Array<{ ticket_id: number; marker: KitchenMarker; quantity: number; name: string; modifiers: string[] | string; note: string | null; seat: number | null; course: number }> =
    await db('kitchen_ticket_items').whereIn('ticket_id', ticketIds).orderBy('id');
  const orders: Array<{ id: number; type: string; customer_name: string | null }> = await db('orders').whereIn('id', [...new Set(tickets.map((t) => t.order_id))]).select('id', 'type', 'customer_name');
  const { timezone } = await getSettings(db);
  return tickets.map((t) => {
    const order = orders.find((o) => o.id === t.order_id);
    return {
      ticketId: t.id,
      stationId: t.station_id,
      input: {
        kind: 'kitchen', station: t.station_name, timezone, orderNumber: t.order_number, orderType: order?.type ?? 'counter',
        table: t.table_name, server: t.server_name, customer: order?.customer_name ?? null, sendNo: t.send_no, at: t.created_at.toISOString(),
        items: items.filter((i) => i.ticket_id === t.id).map((i) => ({
          marker: i.marker, quantity: i.quantity, name: i.name, modifiers: typeof i.modifiers === 'string' ? JSON.parse(i.modifiers) : i.modifiers ?? [],
          note: i.note, seat: i.seat, course: i.course,
        })),
      },
    };
  });
}
