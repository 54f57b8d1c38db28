import type { Clock } from '../clock';
import { inTransaction, type Trx } from '../db/knex';
import { businessDate } from '../business-date';
import { chosenSellable, productWithGroupsById } from '../catalog/service';
import { invalid } from '../errors';
import { getSettings } from '../settings/service';
import type { BusinessSettings } from '../settings/schema';
import type { Actor, OrderDeps } from './change';
import { insertLine, nextOrderNumber, type ModifierRow, type NewLineRow, type OrderRow } from './queries';
import { recompute, toMinor } from './totals';

/** An order number taken for an order that a transaction is about to make (reserveOrderNumber). */
export interface ReservedNumber {
  businessDate: string;
  number: number;
}

/**
 * The day's next order number, taken and committed at once. For an order made inside a longer
 * transaction (the API's order with its lines): the day's counter row is then not held locked
 * until that transaction commits. If the transaction fails, the number is skipped: order numbers
 * are for the kitchen and the customer, only receipt and Z numbers are gapless (ARCHITECTURE,
 * "Numbering").
 */
export async function reserveOrderNumber(deps: OrderDeps): Promise<ReservedNumber> {
  if (deps.db.isTransaction) throw new Error('reserveOrderNumber runs on its own, not inside a transaction');
  const settings = await getSettings(deps.db);
  const bd = businessDate(deps.clock.now(), settings.timezone, settings.businessDayStart);
  return { businessDate: bd, number: await nextOrderNumber(deps.db, bd) };
}

export interface OpenInput {
  type: OrderRow['type'];
  customerName?: string | null;
  tableId?: number | null;
  covers?: number | null;
  seatedAt?: Date | null;
}

/** A new open order with the day's next number (or the one reserved for it). */
export async function openOrder(deps: OrderDeps, input: OpenInput, actor: Actor = {}, reserved?: ReservedNumber): Promise<OrderRow> {
  const open = async (trx: Trx) => {
    const settings = await getSettings(trx);
    const now = deps.clock.now();
    const bd = reserved?.businessDate ?? businessDate(now, settings.timezone, settings.businessDayStart);
    const number = reserved?.number ?? (await nextOrderNumber(trx, bd));
    const [order] = await trx('orders')
      .insert({
        number, business_date: bd, type: input.type, customer_name: input.customerName || null, table_id: input.tableId ?? null, covers: input.covers ?? null,
        seated_at: input.seatedAt ?? null, staff_id: actor.staffId ?? null, terminal_id: actor.terminalId ?? null, created_at: now, updated_at: now,
      })
      .returning('*');
    return order as OrderRow;
  };
  return inTransaction(deps.db, open);
}

export interface NewLine {
  productId: number;
  quantity: number;
  modifierIds: number[];
  note: string | null;
  openPrice?: string;
  course?: number;
  seat?: number | null;
}

/**
 * An order made with its lines in one transaction (the integration API's create): a bad line
 * fails the whole order and leaves nothing behind. Returns the order's id.
 */
export async function openOrderWithLines(deps: OrderDeps, input: OpenInput, lines: readonly NewLine[], actor: Actor = {}, reserved?: ReservedNumber): Promise<number> {
  const made = await inTransaction(deps.db, async (trx) => {
    const order = await openOrder({ ...deps, db: trx }, input, actor, reserved);
    const settings = await getSettings(trx);
    for (const wanted of lines) await addLineIn(trx, deps.clock, order.id, settings, wanted, order.type);
    return { id: order.id, version: await recompute(trx, deps.clock, order, settings) };
  });
  deps.events.publish('order:changed', { orderId: made.id, version: made.version });
  return made.id;
}

/**
 * Adds a line of `input`'s product, as asked, to the order being changed in `trx`, taxed at the
 * product's rate for the order's type where it has one (issue 24). Returns the line's id.
 */
export async function addLineIn(trx: Trx, clock: Clock, orderId: number, settings: BusinessSettings, input: NewLine, orderType?: OrderRow['type']): Promise<number> {
  const { line, mods } = lineFor(clock, orderId, settings, await productWithGroupsById(trx, input.productId, orderType), input);
  return (await insertLine(trx, line, mods)).id;
}

/** The row of a new line of `found` as asked, and its modifiers; throws when the request does not fit the product. */
function lineFor(clock: Clock, orderId: number, settings: BusinessSettings, found: Awaited<ReturnType<typeof productWithGroupsById>>, input: NewLine) {
  const { product, modifiers: chosen } = chosenSellable(found, input.productId, input.modifierIds);
  let base = product.price;
  if (product.open_price) {
    if (input.openPrice === undefined) throw invalid(`${product.name} has an open price: type the price.`, [{ field: 'open_price', message: 'required' }]);
    base = toMinor(input.openPrice, settings.currency, 'open_price');
  } else if (input.openPrice !== undefined) {
    throw invalid(`${product.name} has a fixed price.`, [{ field: 'open_price', message: 'not allowed' }]);
  }
  const unit = base + chosen.reduce((s, mod) => s + mod.priceDelta, 0);
  const line: NewLineRow = {
    order_id: orderId, product_id: product.id, name: product.name, base_price: base, unit_price: Math.max(0, unit),
    quantity: input.quantity, note: input.note, tax_rate_id: product.tax_rate_id, tax_name: product.tax_name, tax_ppm: product.tax_ppm,
    course: input.course ?? 1, seat: input.seat ?? null, created_at: clock.now(),
  };
  const mods: Array<Omit<ModifierRow, 'id' | 'line_id'>> = chosen.map((mod) => ({ modifier_id: mod.id, group_name: mod.groupName, name: mod.name, price_delta: mod.priceDelta }));
  return { line, mods };
}
