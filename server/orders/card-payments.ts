import crypto from 'node:crypto';
import { inTransaction, type Trx } from '../db/knex';
import { conflict, invalid, notFound, unprocessable } from '../errors';
import { announceTickets, sendIn } from '../kitchen/service';
import { announceStock, checkStock, type StockAlert } from '../inventory/service';
import type { Minor } from '../money';
import { getSettings } from '../settings/service';
import { WEBHOOK_TOPIC } from '../webhooks/service';
import type { Actor, OrderDeps } from './change';
import { assertOpen } from './change';
import { lockOrder, orderLines, orderPayments, type PaymentRow } from './queries';
import { closeSale } from './tender';
import { MAX_AMOUNT, totalsFor } from './totals';

/**
 * The order's side of a card tender (issue 22; Stripe's side is server/payments/): the payment
 * row written `pending` with its idempotency key before Stripe is called, and its settlement,
 * exactly once, which closes the sale through closeSale when the order is paid in full.
 */

export interface CardPaymentRow extends PaymentRow {
  card_ref: string;
  card_request: Record<string, unknown>;
  reader_id: number | null;
  tip_on_reader: boolean;
  card_state: string | null;
  failure_message: string | null;
}

export interface CardTenderInput {
  /** what the card pays of the order (a split tender pays part) */
  amount: Minor;
  /** a tip chosen on the terminal, charged with it */
  tip: Minor;
  /** ask the customer for a tip on the reader instead */
  tipOnReader: boolean;
  readerId: number;
  idempotencyKey: string;
}

/** A pending card payment on the order refuses what would conflict with it (cash, a second card). */
export async function assertNoCardPending(trx: Trx, orderId: number): Promise<void> {
  const pending = await trx('payments').where({ order_id: orderId, status: 'pending' }).first('id');
  if (pending) throw conflict('A card payment is in progress on this order: wait for it, or cancel it on the terminal first.', 'card-in-progress');
}

/**
 * Writes the card payment `pending`, committed before Stripe is called. `request(row)` makes the
 * PaymentIntent's parameters, kept on the row so a replay after a crash sends the same ones. A
 * replayed key answers the payment it made (`replayed`), whatever state it is in now.
 */
export async function beginCardPayment(deps: OrderDeps, orderId: number, input: CardTenderInput, actor: Actor, request: (p: { id: number; currency: string; amount: Minor; tip: Minor }) => Record<string, unknown>): Promise<{ payment: CardPaymentRow; replayed: boolean }> {
  const { amount, tip } = input;
  if (!Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_AMOUNT) throw invalid('The card amount must be more than zero.', [{ field: 'amount', message: 'must be more than zero' }]);
  if (!Number.isSafeInteger(tip) || tip < 0 || tip > MAX_AMOUNT) throw invalid('The tip is out of range.', [{ field: 'tip', message: 'out of range' }]);
  return inTransaction(deps.db, async (trx) => {
    const order = await lockOrder(trx, orderId);
    if (!order) throw notFound('That order');
    const prior: CardPaymentRow | undefined = await trx('payments').where({ idempotency_key: input.idempotencyKey }).first();
    if (prior) {
      if (prior.order_id !== orderId || prior.method !== 'card' || prior.amount !== amount || (!prior.tip_on_reader && prior.tip !== tip)) {
        throw unprocessable('This idempotency key was already used for a different payment.', 'idempotency-mismatch');
      }
      return { payment: prior, replayed: true };
    }
    assertOpen(order);
    await assertNoCardPending(trx, orderId);
    const lines = await orderLines(trx, orderId);
    if (!lines.some((l) => l.quantity > 0)) throw unprocessable('The order has no items to pay for.', 'empty-order');
    const settings = await getSettings(trx);
    const due = totalsFor(order, lines, settings).total - order.paid_total;
    if (due <= 0) throw unprocessable('Nothing is due on this order.', 'nothing-due');
    if (amount > due) throw invalid('A card pays at most what is due.', [{ field: 'amount', message: 'more than is due' }]);
    await checkStock(trx, lines, settings); // a card takes money before the sale closes: out of stock is said before it is charged (server/inventory/)
    const now = deps.clock.now();
    const [row]: CardPaymentRow[] = await trx('payments')
      .insert({
        order_id: orderId, method: 'card', status: 'pending', amount, tendered: amount + tip, change: 0, tip, idempotency_key: input.idempotencyKey,
        staff_id: actor.staffId ?? null, terminal_id: actor.terminalId ?? null, created_at: now, card_ref: crypto.randomUUID(), card_request: {},
        reader_id: input.readerId, tip_on_reader: input.tipOnReader, card_state: 'starting',
      })
      .returning('*');
    const card_request = request({ id: row.id, currency: settings.currency, amount, tip });
    await trx('payments').where({ id: row.id }).update({ card_request: JSON.stringify(card_request) });
    return { payment: { ...row, card_request }, replayed: false };
  });
}

export type CardOutcome =
  | { status: 'succeeded'; chargeId: string | null; brand: string | null; last4: string | null; tip: Minor; received: Minor }
  | { status: 'failed' | 'canceled'; message: string };

/**
 * Settles a pending card payment, exactly once (the row is locked and must still be pending): a
 * success adds to what the order has paid and closes the sale when that covers it; a failure
 * leaves the order open for another card or cash. Answers whether this call settled it.
 */
export async function settleCardPayment(deps: OrderDeps, paymentId: number, outcome: CardOutcome): Promise<{ settled: boolean; closed: boolean }> {
  const stockAlerts: StockAlert[] = []; // what the sale left low or out of stock, told after commit
  const done = await inTransaction(deps.db, async (trx) => {
    const head: { order_id: number } | undefined = await trx('payments').where({ id: paymentId }).first('order_id');
    if (!head) throw notFound('That payment');
    const order = await lockOrder(trx, head.order_id);
    const row: CardPaymentRow = await trx('payments').where({ id: paymentId }).forUpdate().first();
    if (!order || row.status !== 'pending') return { settled: false, closed: false, version: undefined, tickets: [] };
    const now = deps.clock.now();
    if (outcome.status !== 'succeeded') {
      await trx('payments').where({ id: paymentId }).update({ status: outcome.status, failure_message: outcome.message, card_state: null, settled_at: now });
      return { settled: true, closed: false, version: undefined, tickets: [] };
    }
    // a tip chosen on the reader is learned now: the sale's part stays what it was
    const tip = row.tip_on_reader ? outcome.tip : row.tip;
    await trx('payments').where({ id: paymentId }).update({
      status: 'succeeded', stripe_charge_id: outcome.chargeId, card_brand: outcome.brand, card_last4: outcome.last4, tip, tendered: row.amount + tip, card_state: null, settled_at: now,
    });
    if (order.status !== 'open') return { settled: true, closed: false, version: undefined, tickets: [] };
    const paid = order.paid_total + row.amount;
    const lines = await orderLines(trx, order.id);
    const settings = await getSettings(trx);
    if (paid < totalsFor(order, lines, settings).total) {
      await trx('orders').where({ id: order.id }).update({ paid_total: paid, version: order.version + 1, updated_at: now });
      return { settled: true, closed: false, version: order.version + 1, tickets: [] };
    }
    const actor = await actorOf(trx, row);
    await closeSale(trx, deps.clock, { order, lines, settings, actor, rounding: 0 }, await orderPayments(trx, order.id), stockAlerts);
    const tickets = settings.kitchenOnPay[order.type] ? await sendIn(trx, deps.clock, { order, lines, settings }, { fireHeld: true, serverName: actor.staffName }) : [];
    return { settled: true, closed: true, version: order.version + 1, tickets };
  });
  if (done.version !== undefined) {
    const orderId: number = (await deps.db('payments').where({ id: paymentId }).first('order_id')).order_id;
    deps.events.publish('order:changed', { orderId, version: done.version });
    announceTickets(deps.events, orderId, done.tickets);
  }
  if (done.closed) deps.events.publish('outbox:written', { topic: WEBHOOK_TOPIC });
  announceStock(deps.events, stockAlerts);
  return { settled: done.settled, closed: done.closed };
}

/** Who took the card payment, for the sale's journal entry. */
async function actorOf(trx: Trx, row: PaymentRow): Promise<Actor> {
  const staff: { name: string } | undefined = row.staff_id ? await trx('staff').where({ id: row.staff_id }).first('name') : undefined;
  const terminal: { name: string } | undefined = row.terminal_id ? await trx('terminals').where({ id: row.terminal_id }).first('name') : undefined;
  return { staffId: row.staff_id, staffName: staff?.name ?? null, terminalId: row.terminal_id, terminal: terminal?.name ?? null };
}
