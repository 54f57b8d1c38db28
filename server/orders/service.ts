import type { Clock } from '../clock';
import type { Db, Trx } from '../db/knex';
import { businessDate } from '../business-date';
import { chosenSellable, type ProductWithGroups } from '../catalog/service';
import { conflict, invalid, notFound, unprocessable } from '../errors';
import { appendEntry, appendParts, ENTRY_ROW } from '../journal/service';
import { insertFromWrite, insertWrite, updateByIdFromWrite, updateByIdWrite, updateWhereWrite, writeAll, type Write } from '../db/write-all';
import { isTransaction, query, transaction, type QueryOptions } from '../db/direct';
import { audit } from '../audit/service';
import { emitEvent, eventWrites } from '../webhooks/service';
import {
  allocate, cashRound, cashTenderLooksMistyped, computeTotals, currencyExponent, divRound, parseDecimal,
  PPM, type Discount, type Minor, type Totals,
} from '../money';
import { getSettings } from '../settings/service';
import { forgetOrder, orderMemory, type MemoryKeeper } from './memory';
import type { BusinessSettings } from '../settings/schema';
import { merged } from '../merge';
import {
  datedFromJson, findOrder, insertLineIfOrderAt, insertLineWithModifiers, lineModifiers, loadOrderBundle, type OrderBundle, lockOrder, lockOrderForTender, lockOrderWithLines, nextOrderNumber, orderLines, productWithGroupsById, refundedByLine,
  type LineRow, type ModifierRow, type NewLineRow, type OrderRow, type PaymentRow,
} from './queries';

// What other features (tables, kitchen, the API) use of the orders' rows and reads: they reach it
// through this service, never ./queries (ARCHITECTURE; test/import-boundaries.test.ts).
export {
  datedFromJson, isOpen, lineModifiers, LINES_JSON, linesFromJson, lockOrder, MODS_JSON, nextOrderNumber, openOrders, orderLines, PAYMENTS_JSON,
  SNAPSHOT_VERSION, TABLE_NAME,
} from './queries';
export type { LineRow, ModifierRow, OrderBundle, OrderReadColumns, OrderRow, PaymentRow } from './queries';

export interface OrderEvents {
  orderChanged(orderId: number, version: number): void;
  /** outbox rows (webhooks) were committed: wake their worker */
  outboxWritten?(): void;
}

export interface OrderDeps {
  db: Db;
  clock: Clock;
  events: OrderEvents;
}

/** Who did it, from where: filled in by the staff & security layer. */
export interface Actor {
  staffId?: number | null;
  staffName?: string | null;
  terminal?: string | null;
  terminalId?: number | null;
  /** the manager whose PIN authorised this action (override) */
  approvedBy?: number | null;
  approverName?: string | null;
}

const staffRecord = (a: Actor) => (a.staffId ? { id: a.staffId, name: a.staffName ?? null } : null);
const approverRecord = (a: Actor) => (a.approvedBy ? { id: a.approvedBy, name: a.approverName ?? null } : null);

const MAX_AMOUNT = 100_000_000_000; // minor units; beyond this a typed amount is a typo

export function toMinor(text: string, currency: string, what: string): Minor {
  const exp = currencyExponent(currency) ?? 2;
  const n = parseDecimal(text, exp);
  if (n === undefined) throw invalid(`${what} must be an amount with at most ${exp} decimals.`, [{ field: what, message: 'not an amount' }]);
  if (n < 0 || n > MAX_AMOUNT) throw invalid(`${what} is out of range.`, [{ field: what, message: 'out of range' }]);
  return n;
}

export function toDiscount(kind: 'percent' | 'amount' | 'none', value: string | undefined, currency: string): Discount | null {
  if (kind === 'none') return null;
  if (kind === 'percent') {
    const ppm = parseDecimal(value ?? '', 4);
    if (ppm === undefined || ppm <= 0 || ppm > 100 * 10_000) throw invalid('A percent discount must be between 0 and 100.', [{ field: 'value', message: 'out of range' }]);
    return { kind: 'percent', ppm }; // '12.5' parsed with 4 decimals is 125 000 ppm = 12.5%
  }
  const amount = toMinor(value ?? '', currency, 'value');
  if (amount <= 0) throw invalid('A discount amount must be more than zero.', [{ field: 'value', message: 'must be more than zero' }]);
  return { kind: 'amount', amount };
}

const discountOf = (kind: string | null, value: number | null): Discount | null =>
  kind === 'percent' ? { kind: 'percent', ppm: value! } : kind === 'amount' ? { kind: 'amount', amount: value! } : null;
const discountValue = (d: Discount | null) => (d ? (d.kind === 'percent' ? d.ppm : d.amount) : null);

export function totalsFor(order: OrderRow, lines: LineRow[], settings: BusinessSettings): Totals {
  return computeTotals(
    lines.map((l) => ({
      key: String(l.id),
      unitPrice: l.unit_price,
      quantity: l.quantity,
      taxRateId: String(l.tax_rate_id),
      taxPpm: l.tax_ppm,
      // a comp is made and given away: the whole line comes off, and its value counts as comps
      discount: l.comp_reason ? { kind: 'percent', ppm: PPM } : discountOf(l.discount_kind, l.discount_value),
    })),
    discountOf(order.discount_kind, order.discount_value),
    settings.pricesIncludeTax,
    order.tax_adjustments,
  );
}

/** What a mutation sees of the order's lines, and may tell back. */
export interface Mutation {
  /** the order's lines, read under its lock */
  lines: LineRow[];
  /** set by a change that knows the lines it leaves (adding one): the totals need no second read */
  linesAfter?: LineRow[];
  /** the product asked for with `opts.productId`, read with the lock (undefined: no such product) */
  product?: ProductWithGroups;
  /** the modifiers of lines the change added (with linesAfter) */
  modifiersAdded?: ModifierRow[];
  /** whether the change's last statement carries the COMMIT: not inside a caller's transaction */
  commitAfter: boolean;
  /**
   * The order's new totals for `lines` as a write, for a change to run inside its own last
   * statement (adding a line: the line, its modifiers and the totals in one round trip).
   * Calling it tells the mutation the change writes them; it then writes no totals of its own.
   */
  totalsWrite(lines: LineRow[]): Write;
}

/**
 * One mutation of an open order: one transaction that locks the order row first, so two
 * terminals on one check serialise instead of losing a line; totals recomputed; version bumped;
 * other terminals nudged after commit.
 *
 * Given a transaction (`deps.db` is one: an API order made with its lines), the change runs in
 * it, without a savepoint of its own: a failed change fails the caller's whole transaction, so a
 * caller must not catch the error and go on.
 */
export async function mutate<T>(
  deps: OrderDeps,
  orderId: number,
  fn: (trx: Trx, order: OrderRow, settings: BusinessSettings, m: Mutation) => Promise<T>,
  opts: MutateOptions = {},
): Promise<T> {
  return (await mutateWithView(deps, orderId, fn, opts)).result;
}

interface MutateOptions {
  keepTaxAdjustments?: boolean;
  orderFieldsChange?: boolean;
  /** a new line's product, read with the lock */
  productId?: number;
  /** also answer the order's screen after the change, from what the transaction read and wrote */
  view?: boolean;
}

async function mutateWithView<T>(
  deps: OrderDeps,
  orderId: number,
  fn: (trx: Trx, order: OrderRow, settings: BusinessSettings, m: Mutation) => Promise<T>,
  opts: MutateOptions,
): Promise<{ result: T; view?: OrderView; after?: OrderBundle; product?: ProductWithGroups }> {
  const inCallersTransaction = isTransaction(deps.db);
  const change = async (trx: Trx) => {
    const locked = await lockOrderWithLines(trx, orderId, { productId: opts.productId, forView: opts.view });
    if (!locked) throw notFound('That order');
    const { order } = locked;
    assertOpen(order);
    const settings = await getSettings(trx);
    // any change to a split part voids its split-time tax adjustment: its taxes are computed afresh
    const clearFor = (o: OrderRow) => !opts.keepTaxAdjustments && o.tax_adjustments !== null;
    const beforeOf = (o: OrderRow) => (clearFor(o) ? { ...o, tax_adjustments: null } : o);
    let written: TotalsWrite | undefined;
    const m: Mutation = {
      lines: locked.lines,
      product: locked.product,
      commitAfter: !inCallersTransaction,
      totalsWrite: (lines) => {
        if (opts.orderFieldsChange) throw new Error('totalsWrite: the change also changes the order row; its totals are written after it');
        written = totalsWrite(deps.clock, beforeOf(order), settings, lines, clearFor(order));
        return written.write;
      },
    };
    const result = await fn(trx, order, settings, m);
    // the row is locked: read it again only when `fn` changed the order's own fields
    const current = opts.orderFieldsChange ? (await findOrder(trx, orderId))! : order;
    const before = beforeOf(current);
    // the change's last statement: the COMMIT goes in the same round trip (m.commitAfter)
    const w = written ?? (await recomputeTotals(trx, deps.clock, before, settings, m.linesAfter, clearFor(current), m.commitAfter));
    // what the screen after the change shows, when the transaction saw all of it (lines known,
    // nothing re-read); it is rendered into a view after COMMIT, not while the order is locked
    const after: OrderBundle | undefined = locked.forView && m.linesAfter && !opts.orderFieldsChange
      ? {
          order: withTotals(before, w),
          tableName: locked.forView.tableName,
          lines: m.linesAfter,
          modifiers: [...locked.forView.modifiers, ...(m.modifiersAdded ?? [])],
          payments: locked.forView.payments,
          refunds: [],
          refundedByLine: new Map(),
        }
      : undefined;
    return { result, version: w.version, after, settings, product: locked.product };
  };
  // given a transaction, `transaction` runs the change in it (no savepoint)
  const { result, version, after, settings, product } = await transaction(deps.db, change);
  // the kept copy is out of date now (a caller that has the screen after it keeps that instead)
  forgetOrder(deps.db, orderId);
  deps.events.orderChanged(orderId, version);
  return { result, view: after && viewOf(after, settings), after, product };
}

export function assertOpen(order: OrderRow) {
  if (order.status !== 'open') {
    const what = { paid: 'paid', voided: 'voided', merged: 'merged into another check', split: 'split into other checks', open: 'open' }[order.status];
    throw conflict(`Order #${order.number} is already ${what}; it cannot change.`, 'order-closed');
  }
}

export async function recompute(trx: Trx, clock: Clock, order: OrderRow, settings: BusinessSettings, lines?: LineRow[], clearTaxAdjustments = false): Promise<number> {
  return (await recomputeTotals(trx, clock, order, settings, lines, clearTaxAdjustments)).version;
}

async function recomputeTotals(trx: Trx, clock: Clock, order: OrderRow, settings: BusinessSettings, lines: LineRow[] | undefined, clearTaxAdjustments: boolean, commitAfter = false) {
  const w = totalsWrite(clock, order, settings, lines ?? (await orderLines(trx, order.id)), clearTaxAdjustments);
  await query(trx, w.write.sql, w.write.bindings, { commitAfter });
  return w;
}

interface TotalsWrite {
  write: Write;
  /** the order's fields it sets */
  set: Record<string, unknown>;
  version: number;
  totals: Totals;
  updatedAt: Date;
}

/** The order's totals for `lines`, its next version and the update that writes them. */
function totalsWrite(clock: Clock, order: OrderRow, settings: BusinessSettings, lines: LineRow[], clearTaxAdjustments: boolean): TotalsWrite {
  const totals = totalsFor(order, lines, settings);
  const version = order.version + 1;
  const updatedAt = clock.now();
  const set = {
    subtotal: totals.subtotal, discount_total: totals.discountTotal, tax_total: totals.taxTotal, total: totals.total, version, updated_at: updatedAt,
    ...(clearTaxAdjustments ? { tax_adjustments: null } : {}),
  };
  return { write: updateByIdWrite('orders', order.id, set), set, version, totals, updatedAt };
}

/** `order` as it is once `w` is written: its totals, version and time of change. */
function withTotals(order: OrderRow, w: TotalsWrite): OrderRow {
  const t = w.totals;
  return { ...order, subtotal: t.subtotal, discount_total: t.discountTotal, tax_total: t.taxTotal, total: t.total, version: w.version, updated_at: w.updatedAt };
}

/** An order number taken for an order that a transaction is about to make (reserveOrderNumber). */
export interface ReservedNumber {
  businessDate: string;
  number: number;
}

/**
 * The day's next order number, taken and committed at once. For an order made inside a longer
 * transaction (the API's order with its lines): openOrder's own statement would hold the day's
 * counter row locked until that transaction commits, and every terminal opening an order would
 * wait for it. If the transaction then fails, the number is skipped: order numbers are for the
 * kitchen and the customer, only receipt and Z numbers are gapless (ARCHITECTURE, "Numbering").
 */
export async function reserveOrderNumber(deps: OrderDeps): Promise<ReservedNumber> {
  if (isTransaction(deps.db)) throw new Error('reserveOrderNumber runs on its own, not inside a transaction');
  const settings = await getSettings(deps.db);
  const bd = businessDate(deps.clock.now(), settings.timezone, settings.businessDayStart);
  return { businessDate: bd, number: await nextOrderNumber(deps.db, bd) };
}

export async function openOrder(
  deps: OrderDeps,
  input: { type: OrderRow['type']; customerName?: string | null; tableId?: number | null; covers?: number | null; seatedAt?: Date | null },
  actor: Actor = {},
  reserved?: ReservedNumber,
  /** `commitAfter`: the caller's transaction ends with this insert (its COMMIT rides with it) */
  opts: QueryOptions = {},
): Promise<OrderRow> {
  const memory = orderMemory(deps.db);
  const settings = await getSettings(deps.db);
  const now = deps.clock.now();
  const bd = reserved?.businessDate ?? businessDate(now, settings.timezone, settings.businessDayStart);
  const values = [input.type, input.customerName || null, input.tableId ?? null, input.covers ?? null, input.seatedAt ?? null, actor.staffId ?? null, actor.terminalId ?? null, now, now];
  // the day's next order number and the order in one statement: atomic without a transaction
  const res = reserved
    ? await query<OrderRow>(
        deps.db,
        `insert into orders (number, business_date, type, customer_name, table_id, covers, seated_at, staff_id, terminal_id, created_at, updated_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning *`,
        [reserved.number, bd, ...values],
        opts,
      )
    : await query<OrderRow>(
        deps.db,
        `with counter as (
           insert into order_counters (business_date, last_number) values (?, 1)
           on conflict (business_date) do update set last_number = order_counters.last_number + 1
           returning last_number)
         insert into orders (number, business_date, type, customer_name, table_id, covers, seated_at, staff_id, terminal_id, created_at, updated_at)
         select counter.last_number, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? from counter
         returning *`,
        [bd, bd, ...values],
        opts,
      );
  const order = res.rows[0];
  // kept for its first lines (memory.ts); not inside a caller's transaction, which may yet roll back
  if (memory && order.table_id === null) {
    memory.keepOrder({ order, tableName: null, lines: [], modifiers: [], payments: [], refunds: [], refundedByLine: new Map() });
  }
  return order;
}

/**
 * An order made with its lines in one transaction (the integration API's create). The order is
 * new, so nothing else sees or changes it before COMMIT: its lines need no lock and no read of it
 * in between. Each line goes in with its modifiers in one statement; the last also writes the
 * order's totals and carries the COMMIT (round-trips.ts). Products come from memory when kept
 * (memory.ts), else are read once each. A bad line fails the whole order and leaves nothing
 * behind. A counter or takeaway order is kept in memory once committed, so its payment can be
 * one statement too. Returns the order's id.
 */
export async function openOrderWithLines(
  deps: OrderDeps,
  input: Parameters<typeof openOrder>[1],
  lines: readonly NewLine[],
  actor: Actor = {},
  reserved?: ReservedNumber,
): Promise<number> {
  const memory = orderMemory(deps.db);
  const ownTransaction = !isTransaction(deps.db);
  const made = await transaction(deps.db, async (trx) => {
    const order = await openOrder({ ...deps, db: trx }, input, actor, reserved);
    const settings = await getSettings(trx);
    const products = new Map<number, ProductWithGroups | undefined>();
    const added: LineRow[] = [];
    const modifiers: ModifierRow[] = [];
    let after = order;
    for (const [i, wanted] of lines.entries()) {
      if (!products.has(wanted.productId)) products.set(wanted.productId, memory?.product(wanted.productId) ?? (await productWithGroupsById(trx, wanted.productId)));
      const { line, mods } = lineFor(deps, order.id, settings, products.get(wanted.productId), wanted);
      const last = i === lines.length - 1;
      const totals = last ? totalsWrite(deps.clock, order, settings, [...added, merged(NEW_LINE_DEFAULTS, line, { id: 0 })], false) : undefined;
      const inserted = await insertLineWithModifiers(trx, line, mods, { also: totals ? [totals.write] : [], commitAfter: last && ownTransaction });
      added.push(inserted.line);
      modifiers.push(...inserted.modifiers);
      if (totals) after = withTotals(order, totals);
    }
    return { order: after, lines: added, modifiers, products };
  });
  for (const [id, product] of made.products) if (product) memory?.keepProduct(id, product);
  if (memory && made.order.table_id === null) {
    memory.keepOrder({ order: made.order, tableName: null, lines: made.lines, modifiers: made.modifiers, payments: [], refunds: [], refundedByLine: new Map() });
  }
  deps.events.orderChanged(made.order.id, made.order.version);
  return made.order.id;
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

export async function addLine(deps: OrderDeps, orderId: number, input: NewLine): Promise<number> {
  return mutate(deps, orderId, addLineTo(deps, orderId, input), { productId: input.productId });
}

/**
 * addLine, answering the order's screen after it too (what the terminal shows next) without
 * reading it again. When this server has the order and the product in memory (memory.ts), it
 * is one statement; otherwise, or when the order changed since, the order is locked and read.
 */
export async function addLineAndView(deps: OrderDeps, orderId: number, input: NewLine): Promise<{ lineId: number; view: OrderView }> {
  const memory = orderMemory(deps.db);
  const fromMemory = memory && (await addLineFromMemory(deps, memory, orderId, input));
  if (fromMemory) return fromMemory;
  const { result: lineId, view, after, product } = await mutateWithView(deps, orderId, addLineTo(deps, orderId, input), { productId: input.productId, view: true });
  if (product) memory?.keepProduct(input.productId, product);
  if (after) memory?.keepOrder(after);
  // the lock's statement waited for another change and read again: read the screen after commit
  return { lineId, view: view ?? (await getOrderView(deps.db, orderId)) };
}

/**
 * The add in one statement, from the order and product this server keeps: the totals with the
 * new line are computed here and written only if the order is still open at the kept version
 * (the same row lock a locking read takes, for the one statement). Undefined when something is
 * not kept, the order moved on, or the request fails a check: the locking path then answers,
 * with the error a locking read gives (a closed order's 409 before a wrong option's 422).
 */
async function addLineFromMemory(deps: OrderDeps, memory: MemoryKeeper, orderId: number, input: NewLine): Promise<{ lineId: number; view: OrderView } | undefined> {
  const known = memory.order(orderId);
  const found = memory.product(input.productId);
  if (!known || !found || known.order.status !== 'open' || known.order.tax_adjustments !== null) return undefined;
  const settings = await getSettings(deps.db);
  let line: NewLineRow, mods: Array<Omit<ModifierRow, 'id' | 'line_id'>>;
  try {
    ({ line, mods } = lineFor(deps, orderId, settings, found, input));
  } catch {
    return undefined;
  }
  const w = totalsWrite(deps.clock, known.order, settings, [...known.lines, merged(NEW_LINE_DEFAULTS, line, { id: 0 })], false);
  const added = await insertLineIfOrderAt(deps.db, line, mods, updateWhereWrite('orders', w.set, { id: orderId, version: known.order.version, status: 'open' }));
  if (!added) return undefined;
  deps.events.orderChanged(orderId, w.version);
  const after: OrderBundle = {
    ...known,
    order: withTotals(known.order, w),
    lines: [...known.lines, added.line],
    modifiers: [...known.modifiers, ...added.modifiers],
  };
  memory.keepOrder(after);
  return { lineId: added.line.id, view: viewOf(after, settings) };
}

/** The row of a new line of `found` as asked, and its modifiers; throws when the request does not fit the product. */
function lineFor(deps: OrderDeps, orderId: number, settings: BusinessSettings, found: ProductWithGroups | undefined, input: NewLine) {
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
    course: input.course ?? 1, seat: input.seat ?? null, created_at: deps.clock.now(),
  };
  const mods = chosen.map((mod) => ({ modifier_id: mod.id, group_name: mod.groupName, name: mod.name, price_delta: mod.priceDelta }));
  return { line, mods };
}

function addLineTo(deps: OrderDeps, orderId: number, input: NewLine) {
  return async (trx: Trx, _order: OrderRow, settings: BusinessSettings, m: Mutation): Promise<number> => {
    const { line, mods } = lineFor(deps, orderId, settings, m.product, input);
    // the order's totals with the new line (its id is not known yet and counts for nothing in
    // them) ride in the line's own statement, which is the transaction's last
    const totals = m.totalsWrite([...m.lines, merged(NEW_LINE_DEFAULTS, line, { id: 0 })]);
    const added = await insertLineWithModifiers(trx, line, mods, { also: [totals], commitAfter: m.commitAfter });
    m.linesAfter = [...m.lines, added.line];
    m.modifiersAdded = added.modifiers;
    return added.line.id;
  };
}

/** What a new order_lines row holds beyond what the insert gives it (the table's defaults). */
const NEW_LINE_DEFAULTS = {
  discount_kind: null, discount_value: null, override_reason: null, original_price: null, net: null, tax: null,
  sent_quantity: 0, sent_note: null, void_reason: null, comp_reason: null,
} as const;

/** The line `lineId` of the order being changed (read under its lock), or 404. */
function lineOf(m: Mutation, lineId: number): LineRow {
  const line = m.lines.find((l) => l.id === lineId);
  if (!line) throw notFound('That line');
  return line;
}

/** Changes a quantity. Below what the kitchen already has, it is a void of sent items: it needs a reason. */
export function setQuantity(deps: OrderDeps, orderId: number, lineId: number, quantity: number, actor: Actor = {}, reason?: string) {
  return mutate(deps, orderId, async (trx, _o, _s, m) => {
    const line = lineOf(m, lineId);
    if (quantity < line.sent_quantity) {
      if (!reason) throw invalid('The kitchen already has this item: give a reason to void it.', [{ field: 'reason', message: 'required to void a sent item' }]);
      await trx('order_lines').where({ id: lineId }).update({ quantity, void_reason: reason });
      await audit(trx, deps.clock, {
        action: 'void', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId,
        details: { orderId, lineId, product: line.name, from: line.quantity, to: quantity, sent: line.sent_quantity, reason },
      });
      return;
    }
    if (quantity === 0) await trx('order_lines').where({ id: lineId }).delete();
    else await trx('order_lines').where({ id: lineId }).update({ quantity });
  });
}

/** Whether changing a line to `quantity` takes back items the kitchen already has. */
export async function isSentVoid(db: Db | Trx, orderId: number, lineId: number, quantity: number): Promise<boolean> {
  const line = await db('order_lines').where({ id: lineId, order_id: orderId }).first('sent_quantity');
  return Boolean(line && quantity < line.sent_quantity);
}

/** A comp: made and given away. It comes off the bill, counts in the comps figures, needs a reason. */
export function compLine(deps: OrderDeps, orderId: number, lineId: number, reason: string, actor: Actor = {}) {
  return mutate(deps, orderId, async (trx, _o, _s, m) => {
    const line = lineOf(m, lineId);
    if (line.quantity === 0) throw conflict('A voided line cannot be comped.', 'line-voided');
    await trx('order_lines').where({ id: lineId }).update({ comp_reason: reason, comp_approved_by: actor.approvedBy ?? null });
    await audit(trx, deps.clock, {
      action: 'comp', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId,
      details: { orderId, lineId, product: line.name, quantity: line.quantity, value: line.unit_price * line.quantity, reason },
    });
  });
}

/** Comps of a business date: lines given away on orders that were paid (value at their price). */
export async function compsFor(db: Db | Trx, businessDate: string): Promise<{ count: number; value: Minor; lines: Array<{ name: string; quantity: number; value: number; reason: string }> }> {
  const rows = await db('order_lines as l')
    .join('orders as o', 'o.id', 'l.order_id')
    .where({ 'o.business_date': businessDate, 'o.status': 'paid' })
    .whereNotNull('l.comp_reason')
    .select('l.name', 'l.quantity', 'l.unit_price', 'l.comp_reason');
  const lines = rows.map((r: { name: string; quantity: number; unit_price: number; comp_reason: string }) => ({ name: r.name, quantity: r.quantity, value: r.unit_price * r.quantity, reason: r.comp_reason }));
  return { count: lines.reduce((s: number, l: { quantity: number }) => s + l.quantity, 0), value: lines.reduce((s: number, l: { value: number }) => s + l.value, 0), lines };
}

export function setNote(deps: OrderDeps, orderId: number, lineId: number, note: string | null) {
  return mutate(deps, orderId, async (trx, _o, _s, m) => {
    lineOf(m, lineId);
    await trx('order_lines').where({ id: lineId }).update({ note });
  });
}

/** Removes a line the kitchen never saw; a sent line is voided instead (quantity 0, kept for the kitchen's VOID). */
export function removeLine(deps: OrderDeps, orderId: number, lineId: number, actor: Actor = {}, reason?: string) {
  return mutate(deps, orderId, async (trx, _o, _s, m) => {
    const line = lineOf(m, lineId);
    if (line.sent_quantity > 0) {
      if (!reason) throw invalid('The kitchen already has this item: give a reason to void it.', [{ field: 'reason', message: 'required to void a sent item' }]);
      await trx('order_lines').where({ id: lineId }).update({ quantity: 0, void_reason: reason });
      await audit(trx, deps.clock, {
        action: 'void', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId,
        details: { orderId, lineId, product: line.name, from: line.quantity, to: 0, sent: line.sent_quantity, reason },
      });
      return;
    }
    await trx('order_lines').where({ id: lineId }).delete();
  });
}

export function overridePrice(deps: OrderDeps, orderId: number, lineId: number, price: string, reason: string, actor: Actor = {}) {
  return mutate(deps, orderId, async (trx, _o, settings, m) => {
    const line = lineOf(m, lineId);
    const base = toMinor(price, settings.currency, 'price');
    const mods = await trx('order_line_modifiers').where({ line_id: lineId }).sum({ d: 'price_delta' });
    const delta = Number(mods[0].d ?? 0);
    await trx('order_lines').where({ id: lineId }).update({
      base_price: base, unit_price: Math.max(0, base + delta), override_reason: reason, original_price: line.original_price ?? line.base_price,
    });
    await audit(trx, deps.clock, {
      action: 'price_override', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId,
      details: { orderId, lineId, product: line.name, from: line.base_price, to: base, reason },
    });
  });
}

export function setLineDiscount(deps: OrderDeps, orderId: number, lineId: number, kind: 'percent' | 'amount' | 'none', value?: string, actor: Actor = {}) {
  return mutate(deps, orderId, async (trx, _o, settings, m) => {
    lineOf(m, lineId);
    const d = toDiscount(kind, value, settings.currency);
    await trx('order_lines').where({ id: lineId }).update({ discount_kind: d?.kind ?? null, discount_value: discountValue(d) });
    await audit(trx, deps.clock, { action: 'discount', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId, details: { orderId, lineId, discount: d } });
  });
}

export function setOrderDiscount(deps: OrderDeps, orderId: number, kind: 'percent' | 'amount' | 'none', value?: string, actor: Actor = {}) {
  return mutate(deps, orderId, async (trx, _o, settings) => {
    const d = toDiscount(kind, value, settings.currency);
    await trx('orders').where({ id: orderId }).update({ discount_kind: d?.kind ?? null, discount_value: discountValue(d) });
    await audit(trx, deps.clock, { action: 'discount', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId, details: { orderId, discount: d } });
  }, { orderFieldsChange: true });
}

export function setCustomerName(deps: OrderDeps, orderId: number, name: string) {
  return mutate(deps, orderId, async (trx) => {
    await trx('orders').where({ id: orderId }).update({ customer_name: name || null });
  }, { orderFieldsChange: true });
}

export function setParked(deps: OrderDeps, orderId: number, parked: boolean) {
  return mutate(deps, orderId, async (trx) => {
    await trx('orders').where({ id: orderId }).update({ parked });
  }, { orderFieldsChange: true });
}

/** The complete record of an order for its journal entry: every line, modifier, discount, tax. */
async function readOrderRecord(trx: Trx, order: OrderRow, settings: BusinessSettings, actor: Actor) {
  const lines = await orderLines(trx, order.id);
  return orderRecord(order, settings, actor, lines, await lineModifiers(trx, lines.map((l) => l.id)));
}

function orderRecord(order: OrderRow, settings: BusinessSettings, actor: Actor, lines: LineRow[], mods: ModifierRow[]) {
  const totals = totalsFor(order, lines, settings);
  const lineTax = allocateLineTax(lines, totals);
  const byKey = new Map(totals.lines.map((l) => [l.key, l]));
  const record = {
    order_id: order.id,
    order_number: order.number,
    business_date: order.business_date,
    order_type: order.type,
    customer_name: order.customer_name,
    currency: settings.currency,
    prices_include_tax: settings.pricesIncludeTax,
    staff: staffRecord(actor),
    approved_by: approverRecord(actor),
    terminal: actor.terminal ?? null,
    lines: lines.map((l) => {
      const t = byKey.get(String(l.id))!;
      return {
        line_id: l.id,
        product_id: l.product_id,
        name: l.name,
        quantity: l.quantity,
        unit_price: l.unit_price,
        modifiers: mods.filter((m) => m.line_id === l.id).map((m) => ({ group: m.group_name, name: m.name, price_delta: m.price_delta })),
        note: l.note,
        price_override: l.override_reason ? { original_price: l.original_price, price: l.base_price, reason: l.override_reason } : null,
        discount: l.discount_kind ? { kind: l.discount_kind, value: l.discount_value } : null,
        gross: t.gross,
        line_discount: t.lineDiscount,
        order_discount: t.orderDiscount,
        net: t.net,
        tax_rate: { id: l.tax_rate_id, name: l.tax_name, ppm: l.tax_ppm },
        tax: lineTax.get(l.id)!,
        course: l.course,
        seat: l.seat,
        comp: l.comp_reason ? { reason: l.comp_reason } : null,
        void: l.void_reason ? { reason: l.void_reason, sent_quantity: l.sent_quantity } : null,
      };
    }),
    order_discount: order.discount_kind ? { kind: order.discount_kind, value: order.discount_value } : null,
    subtotal: totals.subtotal,
    discount_total: totals.discountTotal,
    taxes: totals.taxes.map((x) => {
      const l = lines.find((ln) => String(ln.tax_rate_id) === x.taxRateId)!;
      return { tax_rate_id: Number(x.taxRateId), name: l.tax_name, ppm: x.ppm, base: x.base, tax: x.tax };
    }),
    tax_total: totals.taxTotal,
    total: totals.total,
  };
  return { record, lines, totals, lineTax };
}

/** Each rate's tax shared over its lines by net amount (largest remainder), so refunds take exact shares. */
function allocateLineTax(lines: LineRow[], totals: Totals): Map<number, Minor> {
  const out = new Map<number, Minor>();
  const byKey = new Map(totals.lines.map((l) => [l.key, l]));
  for (const t of totals.taxes) {
    const ls = lines.filter((l) => String(l.tax_rate_id) === t.taxRateId);
    const shares = allocate(t.tax, ls.map((l) => byKey.get(String(l.id))!.net));
    ls.forEach((l, i) => out.set(l.id, shares[i]));
  }
  return out;
}

export interface TenderResult {
  paymentId: number;
  amount: Minor;
  tendered: Minor;
  change: Minor;
  closed: boolean;
  replayed: boolean;
  receiptNo: number | null;
}

/**
 * A cash tender. Tendered ≥ what is due (after cash rounding) pays in full, shows change and
 * closes the sale with its journal entry; less leaves a balance. The idempotency key makes a
 * double tap or a retried request record one payment: a replay returns the first outcome.
 */
export async function tenderCash(deps: OrderDeps, orderId: number, tendered: Minor, idempotencyKey: string, actor: Actor = {}, tip: Minor = 0): Promise<TenderResult> {
  return (await tenderCashWithBundle(deps, orderId, tendered, idempotencyKey, actor, tip)).result;
}

/** tenderCash, answering the order's screen after it too, from what its transaction read and wrote. */
export async function tenderCashAndView(deps: OrderDeps, orderId: number, tendered: Minor, idempotencyKey: string, actor: Actor = {}, tip: Minor = 0): Promise<{ result: TenderResult; view: OrderView }> {
  const { result, after } = await tenderCashWithBundle(deps, orderId, tendered, idempotencyKey, actor, tip);
  // a replayed key, or a lock that waited and read the lines again: read the screen after commit
  return { result, view: await screenOf(deps.db, orderId, after) };
}

async function tenderCashWithBundle(deps: OrderDeps, orderId: number, tendered: Minor, idempotencyKey: string, actor: Actor, tip: Minor): Promise<{ result: TenderResult; after?: OrderBundle }> {
  const input: TenderInput = { orderId, tendered, idempotencyKey, actor, tip };
  const memory = orderMemory(deps.db);
  const paid = (memory && (await tenderFromMemory(deps, memory, input))) || (await tenderLocked(deps, input));
  const { result } = paid;
  if (!result.replayed) {
    // paid in part, the kept copy is out of date; closed, nothing will add to it
    forgetOrder(deps.db, orderId);
    deps.events.orderChanged(orderId, paid.version!);
  }
  if (result.closed && !result.replayed) deps.events.outboxWritten?.();
  return { result, after: result.replayed ? undefined : paid.after };
}

interface TenderInput {
  orderId: number;
  tendered: Minor;
  idempotencyKey: string;
  actor: Actor;
  tip: Minor;
}

interface Tendered {
  result: TenderResult;
  /** the order's new version (not for a replay) */
  version?: number;
  /** the screen after it, when what the tender was planned from was all of it */
  after?: OrderBundle;
}

/** The tender in one transaction that locks the order and reads it first: 2 round trips. */
async function tenderLocked(deps: OrderDeps, input: TenderInput): Promise<Tendered> {
  const { orderId, tendered, tip, idempotencyKey } = input;
  return transaction(deps.db, async (trx): Promise<Tendered> => {
    const locked = await lockOrderForTender(trx, orderId, idempotencyKey);
    if (!locked) throw notFound('That order');
    const { order, prior } = locked;
    const settings = await getSettings(trx);
    checkTenderAmounts(input);
    if (prior) {
      if (prior.order_id !== orderId || prior.tendered !== tendered || prior.tip !== tip) {
        throw unprocessable('This idempotency key was already used for a different payment.', 'idempotency-mismatch');
      }
      return { result: { paymentId: prior.id, amount: prior.amount, tendered: prior.tendered, change: prior.change, closed: order.status === 'paid', replayed: true, receiptNo: order.receipt_no } };
    }
    const plan = planTender(deps.clock, input, settings, { order, lines: locked.lines, modifiers: locked.modifiers, payments: locked.payments, tableName: locked.tableName });
    const [row] = await writeAll<TenderRow>(trx, plan.writes, undefined, { commitAfter: true, final: plan.final });
    return plan.done(row);
  });
}

/**
 * The tender in one statement, from the order this server keeps (orders/memory.ts): the order
 * is locked where it is open at the kept version, the payment inserted only then and only if its
 * idempotency key is new, and everything else hangs on the payment. Undefined when the order is
 * not kept, moved on, the key was used before or a check fails (nothing was written): the
 * locking path then answers, a replay and every error included.
 */
async function tenderFromMemory(deps: OrderDeps, memory: MemoryKeeper, input: TenderInput): Promise<Tendered | undefined> {
  const known = memory.order(input.orderId);
  if (!known || known.order.status !== 'open') return undefined;
  const settings = await getSettings(deps.db);
  let plan: TenderPlan;
  try {
    checkTenderAmounts(input);
    plan = planTender(deps.clock, input, settings, known, 'guard');
  } catch {
    return undefined;
  }
  const guard: Write = { name: 'guard', sql: `select id from orders where id = ? and version = ? and status = 'open' for update`, bindings: [input.orderId, known.order.version] };
  const [row] = await writeAll<TenderRow>(deps.db, [guard, ...plan.writes], undefined, { final: plan.final });
  return row?.x_payment ? plan.done(row) : undefined;
}

function checkTenderAmounts({ tendered, tip }: TenderInput) {
  if (!Number.isSafeInteger(tendered) || tendered < 0 || tendered > MAX_AMOUNT) throw invalid('The amount tendered is out of range.', [{ field: 'tendered', message: 'out of range' }]);
  if (!Number.isSafeInteger(tip) || tip < 0 || tip > MAX_AMOUNT) throw invalid('The tip is out of range.', [{ field: 'tip', message: 'out of range' }]);
}

/** The statement's answer: the payment, and for a close the journal entry (ENTRY_ROW). */
type TenderRow = { x_payment: PaymentRow | null; canonical: string; hash: string };

interface TenderPlan {
  writes: Write[];
  /** the statement's own query after the writes (writeAll's `final`) */
  final: string;
  done(row: TenderRow): Tendered;
}

/**
 * What a cash tender of `order` writes, from the order as locked or kept. Tendered ≥ what is due
 * (after cash rounding) pays in full, shows change and closes the sale with its journal entry,
 * all in one statement; less leaves a balance. `gate`: the name of a part of the same statement
 * that returns the order's row if it may go ahead; the payment is then inserted only from it and
 * only with a new idempotency key, and everything else hangs on the payment.
 */
function planTender(
  clock: Clock,
  input: TenderInput,
  settings: BusinessSettings,
  read: { order: OrderRow; lines: LineRow[]; modifiers: ModifierRow[]; payments: PaymentRow[]; tableName?: string | null },
  gate?: string,
): TenderPlan {
  const { orderId, tendered, tip, idempotencyKey, actor } = input;
  const { order, lines } = read;
  assertOpen(order);
  if (tendered <= 0) throw invalid('The amount tendered must be more than zero.', [{ field: 'tendered', message: 'must be more than zero' }]);
  if (!lines.some((l) => l.quantity > 0)) throw unprocessable('The order has no items to pay for.', 'empty-order');
  const totals = totalsFor(order, lines, settings);
  const due = totals.total - order.paid_total;
  const cashDue = cashRound(due, settings.cashRounding);
  const available = tendered - tip; // a tip rides along with the cash and is not revenue
  if (available <= 0) throw invalid('The amount tendered does not cover the tip.', [{ field: 'tendered', message: 'less than the tip' }]);
  const paysInFull = available >= cashDue;
  const amount = paysInFull ? due : available;
  if (amount <= 0) throw unprocessable('Nothing is due on this order.', 'nothing-due');
  if (cashTenderLooksMistyped(tendered, cashDue + tip, currencyExponent(settings.currency) ?? 2)) {
    throw unprocessable(`The amount tendered looks mistyped: it is more than 100 times what is due and more than 1000 ${settings.currency} over it. Check it and enter it again.`, 'tender-implausible');
  }
  const change = paysInFull ? available - cashDue : 0;
  const now = clock.now();
  const payment = { order_id: orderId, method: 'cash', amount, tendered, change, tip, idempotency_key: idempotencyKey, staff_id: actor.staffId ?? null, terminal_id: actor.terminalId ?? null, created_at: now };
  const paymentWrite = gate
    ? insertFromWrite('payments', payment, gate, { name: 'new_payment', then: 'on conflict (idempotency_key) do nothing' })
    : insertWrite('payments', payment, 'new_payment');
  // with a gate, every other write happens only if the payment was inserted
  const ifPaid = gate ? ' and exists (select 1 from new_payment)' : '';
  const paidTotal = order.paid_total + amount;
  const version = order.version + 1;
  // what the screen shows after this payment, when the read saw everything it needs
  const bundleAfter = (o: OrderRow, ls: LineRow[], p: PaymentRow): OrderBundle | undefined =>
    read.tableName === undefined ? undefined : { order: o, tableName: read.tableName, lines: ls, modifiers: read.modifiers, payments: [...read.payments, p], refunds: [], refundedByLine: new Map() };
  const paymentOf = (row: TenderRow) => datedFromJson([row.x_payment!])[0]; // through JSON: its timestamps are strings
  if (!paysInFull) {
    const orderChange = { paid_total: paidTotal, version, updated_at: now };
    const update = updateByIdWrite('orders', orderId, orderChange);
    return {
      writes: [paymentWrite, { ...update, sql: update.sql + ifPaid }],
      final: `select (select row_to_json(p) from new_payment p) as x_payment`,
      done: (row) => {
        const p = paymentOf(row);
        return { result: { paymentId: p.id, amount, tendered, change, closed: false, replayed: false, receiptNo: null }, version, after: bundleAfter(merged(order, orderChange), lines, p) };
      },
    };
  }
  const { record, lineTax, totals: tt } = orderRecord(order, settings, actor, lines, read.modifiers);
  const values = lines.map((l) => [l.id, tt.lines.find((x) => x.key === String(l.id))!.net, lineTax.get(l.id)!]);
  const tenders = [...read.payments, payment].map((p) => ({ method: p.method, amount: p.amount, tendered: p.tendered, change: p.change, ...(p.tip ? { tip: p.tip } : {}) }));
  const journal = appendParts(clock, { kind: 'sale', record: { ...record, rounding: cashDue - due, tenders }, sales: tt.total }, gate && 'exists (select 1 from new_payment)');
  const closedOrder = {
    status: 'paid' as const, paid_total: paidTotal, rounding: cashDue - due,
    closed_at: now, version, updated_at: now,
    subtotal: tt.subtotal, discount_total: tt.discountTotal, tax_total: tt.taxTotal, total: tt.total,
  };
  // the payment, the lines' amounts, the journal entry (the chain head locked and moved), the
  // webhook event and the order closed with the entry's receipt number: one statement, with the
  // COMMIT; the head is held only while PostgreSQL runs it
  return {
    writes: [
      paymentWrite,
      {
        // order_id narrows it to the order's lines through its index (see kitchen/service.ts sendOrder)
        sql: `update order_lines set net = v.net, tax = v.tax from (values ${values.map(() => '(?::bigint, ?::bigint, ?::bigint)').join(', ')}) as v(id, net, tax)
              where order_lines.order_id = ? and order_lines.id = v.id${ifPaid}`,
        bindings: [...values.flat(), orderId],
      },
      ...journal.parts,
      ...eventWrites(clock, 'order.paid', {
        orderId, number: order.number, total: tt.total, currency: settings.currency, paidAt: now.toISOString(),
      }, { from: 'jentry', also: "jsonb_build_object('receiptNo', jentry.receipt_no, 'journalSeq', jentry.seq)" }),
      updateByIdFromWrite('orders', orderId, closedOrder, 'jentry', { receipt_no: 'receipt_no', journal_seq: 'seq' }),
    ],
    final: `select (select row_to_json(p) from new_payment p) as x_payment, ${ENTRY_ROW} from jentry`,
    done: (row) => {
      const entry = journal.entryOf(row);
      const receiptNo = entry.receipt_no!;
      const p = paymentOf(row);
      const amounts = new Map(values.map(([id, net, tax]) => [id, { net, tax }]));
      return {
        result: { paymentId: p.id, amount, tendered, change, closed: true, replayed: false, receiptNo },
        version,
        after: bundleAfter(merged(order, closedOrder, { receipt_no: receiptNo, journal_seq: entry.seq }), lines.map((l) => merged(l, amounts.get(l.id)!)), p),
      };
    },
  };
}

/** Voids an unpaid order with a reason: a journal entry with its full record and a receipt number. */
export async function voidOrder(deps: OrderDeps, orderId: number, reason: string, actor: Actor = {}): Promise<number> {
  const version = await deps.db.transaction(async (trx) => {
    const order = await lockOrder(trx, orderId);
    if (!order) throw notFound('That order');
    if (order.status === 'paid') throw conflict(`Order #${order.number} is paid: refund it instead.`, 'order-closed');
    assertOpen(order);
    if (order.paid_total > 0) throw conflict('Part of this order is already paid: it cannot be voided.', 'has-payments');
    const settings = await getSettings(trx);
    const { record, totals } = await readOrderRecord(trx, order, settings, actor);
    const entry = await appendEntry(trx, deps.clock, { kind: 'void', record: { ...record, reason }, voids: totals.total });
    const now = deps.clock.now();
    await trx('orders').where({ id: orderId }).update({
      status: 'voided', void_reason: reason, receipt_no: entry.receipt_no, journal_seq: entry.seq, closed_at: now, version: order.version + 1, updated_at: now,
      void_approved_by: actor.approvedBy ?? null,
    });
    await emitEvent(trx, deps.clock, 'order.voided', { orderId, number: order.number, receiptNo: entry.receipt_no, total: totals.total, reason });
    await audit(trx, deps.clock, {
      action: 'void', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId,
      details: { orderId, orderNumber: order.number, receiptNo: entry.receipt_no, total: totals.total, reason },
    });
    return order.version + 1;
  });
  forgetOrder(deps.db, orderId); // voided: nothing will add to it
  deps.events.orderChanged(orderId, version);
  deps.events.outboxWritten?.();
  return version;
}

export interface RefundRequest {
  reason: string;
  idempotencyKey: string;
  /** per line id, how many to refund; undefined refunds everything not yet refunded */
  lines?: Map<number, number>;
}

/**
 * Refunds a paid sale, whole or by line: a new negative record with its own receipt number;
 * the original order and its journal entry stay untouched. Amounts are the exact shares of what
 * was charged; the last refund of a line takes whatever remains, so refunds never exceed a sale.
 */
export async function refundOrder(deps: OrderDeps, orderId: number, req: RefundRequest, actor: Actor = {}) {
  const result = await deps.db.transaction(async (trx) => {
    const order = await lockOrder(trx, orderId);
    if (!order) throw notFound('That order');
    const prior = await trx('refunds').where({ idempotency_key: req.idempotencyKey }).first();
    if (prior) {
      if (prior.order_id !== orderId) throw unprocessable('This idempotency key was already used for another refund.', 'idempotency-mismatch');
      return { refundId: prior.id as number, total: prior.total as number, receiptNo: prior.receipt_no as number, replayed: true };
    }
    if (order.status !== 'paid') throw conflict('Only a paid sale can be refunded.', 'not-refundable');
    const settings = await getSettings(trx);
    const lines = await orderLines(trx, orderId);
    const done = await refundedByLine(trx, orderId);
    const picked: Array<{ line: LineRow; quantity: number; net: Minor; tax: Minor }> = [];
    if (req.lines) {
      for (const lineId of req.lines.keys()) {
        if (!lines.some((l) => l.id === lineId)) throw unprocessable(`Line ${lineId} is not part of this sale.`, 'unknown-line');
      }
    }
    for (const line of lines) {
      const prev = done.get(line.id) ?? { quantity: 0, net: 0, tax: 0 };
      const remaining = line.quantity - prev.quantity;
      const q = req.lines ? req.lines.get(line.id) ?? 0 : remaining;
      if (q === 0) continue;
      if (!Number.isInteger(q) || q < 0) throw invalid('Refund quantities must be whole numbers.');
      if (q > remaining) throw unprocessable(`Only ${remaining} of ${line.name} can still be refunded.`, 'refund-too-much');
      const last = q === remaining;
      const net = last ? line.net! - prev.net : Number(divRound(BigInt(line.net!) * BigInt(q), BigInt(line.quantity)));
      const tax = last ? line.tax! - prev.tax : Number(divRound(BigInt(line.tax!) * BigInt(q), BigInt(line.quantity)));
      picked.push({ line, quantity: q, net, tax });
    }
    if (!picked.length) throw unprocessable('Nothing left to refund on this sale.', 'nothing-to-refund');
    const net = picked.reduce((s, p) => s + p.net, 0);
    const taxTotal = picked.reduce((s, p) => s + p.tax, 0);
    const total = settings.pricesIncludeTax ? net : net + taxTotal;
    const byRate = new Map<number, { name: string; ppm: number; tax: number; net: number }>();
    for (const p of picked) {
      const r = byRate.get(p.line.tax_rate_id) ?? { name: p.line.tax_name, ppm: p.line.tax_ppm, tax: 0, net: 0 };
      r.tax += p.tax;
      r.net += p.net;
      byRate.set(p.line.tax_rate_id, r);
    }
    const entry = await appendEntry(trx, deps.clock, {
      kind: 'refund',
      record: {
        order_id: order.id,
        order_number: order.number,
        original_receipt_no: order.receipt_no,
        original_seq: order.journal_seq,
        business_date: businessDate(deps.clock.now(), settings.timezone, settings.businessDayStart),
        currency: settings.currency,
        prices_include_tax: settings.pricesIncludeTax,
        reason: req.reason,
        staff: staffRecord(actor),
        approved_by: approverRecord(actor),
        terminal: actor.terminal ?? null,
        lines: picked.map((p) => ({ line_id: p.line.id, product_id: p.line.product_id, name: p.line.name, quantity: -p.quantity, unit_price: p.line.unit_price, net: -p.net, tax: -p.tax, tax_rate: { id: p.line.tax_rate_id, name: p.line.tax_name, ppm: p.line.tax_ppm } })),
        taxes: [...byRate.entries()].map(([id, r]) => ({ tax_rate_id: id, name: r.name, ppm: r.ppm, base: -(settings.pricesIncludeTax ? r.net - r.tax : r.net), tax: -r.tax })),
        tax_total: -taxTotal,
        total: -total,
        tenders: [{ method: 'cash', amount: -total }],
      },
      refunds: total,
    });
    const [refund] = await trx('refunds')
      .insert({
        order_id: orderId, receipt_no: entry.receipt_no, journal_seq: entry.seq, reason: req.reason, total, tax_total: taxTotal, idempotency_key: req.idempotencyKey,
        staff_id: actor.staffId ?? null, approved_by: actor.approvedBy ?? null, terminal_id: actor.terminalId ?? null, created_at: deps.clock.now(),
      })
      .returning('id');
    await audit(trx, deps.clock, {
      action: 'refund', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId,
      details: { orderId, refundId: refund.id, receiptNo: entry.receipt_no, total, reason: req.reason },
    });
    await emitEvent(trx, deps.clock, 'refund.created', { refundId: refund.id, orderId, receiptNo: entry.receipt_no, total, currency: settings.currency, reason: req.reason });
    await trx('refund_lines').insert(picked.map((p) => ({ refund_id: refund.id, order_line_id: p.line.id, quantity: p.quantity, net: p.net, tax: p.tax })));
    return { refundId: refund.id as number, total, receiptNo: entry.receipt_no!, replayed: false };
  });
  if (!result.replayed) deps.events.outboxWritten?.();
  return result;
}

export interface OrderView {
  order: OrderRow;
  lines: Array<LineRow & { modifiers: ModifierRow[]; gross: Minor; discount: Minor; lineNet: Minor; refunded: number }>;
  totals: Totals;
  taxes: Array<{ name: string; ppm: number; base: Minor; tax: Minor; percent: string }>;
  due: Minor;
  cashDue: Minor;
  payments: PaymentRow[];
  refunds: Array<{ id: number; receipt_no: number; reason: string; total: number; created_at: Date }>;
  settings: BusinessSettings;
  tableName: string | null;
}

/** The order's screen from what a change's transaction read and wrote, else read after its commit. */
export async function screenOf(db: Db, orderId: number, after: OrderBundle | undefined): Promise<OrderView> {
  return after ? viewOf(after, await getSettings(db)) : getOrderView(db, orderId);
}

export async function getOrderView(db: Db | Trx, orderId: number): Promise<OrderView> {
  const b = await loadOrderBundle(db, orderId);
  if (!b) throw notFound('That order');
  return viewOf(b, await getSettings(db));
}

function viewOf(b: OrderBundle, settings: BusinessSettings): OrderView {
  const { order, lines } = b;
  const totals = totalsFor(order, lines, settings);
  const closed = order.status === 'paid';
  const byKey = new Map(totals.lines.map((l) => [l.key, l]));
  const modsByLine = new Map<number, ModifierRow[]>();
  for (const m of b.modifiers) {
    const list = modsByLine.get(m.line_id);
    if (list) list.push(m);
    else modsByLine.set(m.line_id, [m]);
  }
  const due = order.status === 'open' ? totals.total - order.paid_total : 0;
  return {
    order,
    lines: lines.map((l) => {
      const t = byKey.get(String(l.id))!;
      return merged(l, { modifiers: modsByLine.get(l.id) ?? [], gross: t.gross, discount: t.lineDiscount, lineNet: t.gross - t.lineDiscount, refunded: b.refundedByLine.get(l.id)?.quantity ?? 0 });
    }),
    totals,
    taxes: totals.taxes.map((x) => ({
      name: lines.find((l) => String(l.tax_rate_id) === x.taxRateId)!.tax_name,
      ppm: x.ppm, base: x.base, tax: x.tax, percent: `${(x.ppm / (PPM / 100)).toString()}%`,
    })),
    due,
    cashDue: cashRound(due, settings.cashRounding),
    payments: order.paid_total > 0 || closed ? b.payments : [],
    refunds: closed ? b.refunds : [],
    settings,
    tableName: b.tableName,
  };
}
