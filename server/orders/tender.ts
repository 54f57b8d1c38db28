import type { Clock } from '../clock';
import { inTransaction, type Trx } from '../db/knex';
import { invalid, notFound, unprocessable } from '../errors';
import { appendEntry, type JournalEntry } from '../journal/service';
import { announceTickets, sendIn } from '../kitchen/service';
import { cashRound, cashTenderLooksMistyped, currencyExponent, type Minor } from '../money';
import { getSettings } from '../settings/service';
import { emitEvent, WEBHOOK_TOPIC } from '../webhooks/service';
import { assertLedgerCompared } from '../ledger/service';
import { queueDrawerKick, queueSaleReceipt } from '../printing/service';
import { sessionForCash } from '../cash/service';
import { announceStock, takeStockForSale, type StockAlert } from '../inventory/service';
import { assertOpen, withView, type Actor, type Locked, type OrderDeps } from './change';
import { lineModifiers, lockOrder, orderLines, orderPayments, paymentByKey, type PaymentRow } from './queries';
import { orderRecord } from './record';
import { MAX_AMOUNT, totalsFor } from './totals';
import type { OrderView } from './views';
import { assertNoCardPending } from './card-payments';

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
 * A cash tender, in one transaction that locks the order first. Tendered ≥ what is due (after
 * cash rounding) pays in full, shows change and closes the sale (closeSale), and, when the
 * store sends the order's type to the kitchen on pay (settings.kitchenOnPay), sends what the
 * kitchen has not had yet with the kitchen's own send (sendIn) in that same transaction: the
 * sale is closed and its tickets made together or neither. Less leaves a balance. The
 * idempotency key makes a double tap or a retried request record one payment: a duplicate
 * waits for the order's lock and then replays the first outcome.
 */
export async function tenderCash(deps: OrderDeps, orderId: number, tendered: Minor, idempotencyKey: string, actor: Actor = {}, tip: Minor = 0): Promise<TenderResult> {
  if (!Number.isSafeInteger(tendered) || tendered < 0 || tendered > MAX_AMOUNT) throw invalid('The amount tendered is out of range.', [{ field: 'tendered', message: 'out of range' }]);
  if (!Number.isSafeInteger(tip) || tip < 0 || tip > MAX_AMOUNT) throw invalid('The tip is out of range.', [{ field: 'tip', message: 'out of range' }]);
  const stockAlerts: StockAlert[] = []; // what the sale left low or out of stock, told after commit
  const { result, version, tickets } = await inTransaction(deps.db, async (trx) => {
    const none: Array<{ ticketId: number; stationId: number }> = [];
    const order = await lockOrder(trx, orderId);
    if (!order) throw notFound('That order');
    const prior = await paymentByKey(trx, idempotencyKey);
    if (prior) {
      if (prior.order_id !== orderId || prior.tendered !== tendered || prior.tip !== tip) {
        throw unprocessable('This idempotency key was already used for a different payment.', 'idempotency-mismatch');
      }
      const replay: TenderResult = { paymentId: prior.id, amount: prior.amount, tendered: prior.tendered, change: prior.change, closed: order.status === 'paid', replayed: true, receiptNo: order.receipt_no };
      return { result: replay, version: undefined, tickets: none };
    }
    assertOpen(order);
    await assertNoCardPending(trx, orderId); // a card payment in progress is settled or canceled before cash is taken (./card-payments.ts)
    if (tendered <= 0) throw invalid('The amount tendered must be more than zero.', [{ field: 'tendered', message: 'must be more than zero' }]);
    const lines = await orderLines(trx, orderId);
    if (!lines.some((l) => l.quantity > 0)) throw unprocessable('The order has no items to pay for.', 'empty-order');
    const settings = await getSettings(trx);
    const due = totalsFor(order, lines, settings).total - order.paid_total;
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
    // the drawer the cash goes into: with "ask for a float", none open refuses (the pay dialog offers the float; server/cash/)
    const drawerSessionId = await sessionForCash(trx, actor.terminalId, { required: settings.requireDrawerSession });
    const now = deps.clock.now();
    const [payment]: PaymentRow[] = await trx('payments')
      .insert({ order_id: orderId, method: 'cash', amount, tendered, change, tip, idempotency_key: idempotencyKey, staff_id: actor.staffId ?? null, terminal_id: actor.terminalId ?? null, drawer_session_id: drawerSessionId, created_at: now })
      .returning('*');
    const done = { paymentId: payment.id, amount, tendered, change, replayed: false };
    if (!paysInFull) {
      const version = order.version + 1;
      await trx('orders').where({ id: orderId }).update({ paid_total: order.paid_total + amount, version, updated_at: now });
      await queueDrawerKick(trx, deps.clock, actor.terminalId, deps.events); // the cash goes in the drawer (server/printing/)
      return { result: { ...done, closed: false, receiptNo: null }, version, tickets: none };
    }
    const entry = await closeSale(trx, deps.clock, { order, lines, settings, actor, rounding: cashDue - due }, await orderPayments(trx, orderId), stockAlerts);
    // the order is closing: a held course could never be fired after, so it goes too
    const tickets = settings.kitchenOnPay[order.type] ? await sendIn(trx, deps.clock, { order, lines, settings }, { fireHeld: true, serverName: actor.staffName }) : none;
    return { result: { ...done, closed: true, receiptNo: entry.receipt_no! }, version: order.version + 1, tickets };
  });
  if (version !== undefined) deps.events.publish('order:changed', { orderId, version });
  announceTickets(deps.events, orderId, tickets);
  announceStock(deps.events, stockAlerts);
  if (result.closed && !result.replayed) deps.events.publish('outbox:written', { topic: WEBHOOK_TOPIC });
  return result;
}

/** tenderCash, answering the order's screen as the tender leaves it (read in its transaction). */
export function tenderCashAndView(deps: OrderDeps, orderId: number, tendered: Minor, idempotencyKey: string, actor: Actor = {}, tip: Minor = 0): Promise<{ result: TenderResult; view: OrderView }> {
  return withView(deps, orderId, (d) => tenderCash(d, orderId, tendered, idempotencyKey, actor, tip));
}

export interface Sale extends Locked {
  actor: Actor;
  /** what cash rounding added to (or took off) what was due */
  rounding: Minor;
}

/**
 * Closes a sale whose tenders cover it, inside the caller's transaction (the order locked):
 * - the totals and each rate's tax, shared over the lines (their net and tax are written: a
 *   refund later takes exact shares of them);
 * - the journal entry: the complete record with the tenders, its receipt number from the chain;
 * - the outbox row: the order.paid webhook event;
 * - the order closed as paid, with its receipt number and journal seq;
 * - its counted products' stock taken (server/inventory/): with overselling refused, a sale
 *   beyond the stock throws 409 out-of-stock and the caller's transaction, payment and all,
 *   rolls back. What it left low or out is pushed onto `stockAlerts`, for the caller to
 *   announce after its commit (announceStock).
 */
export async function closeSale(trx: Trx, clock: Clock, sale: Sale, tenders: PaymentRow[], stockAlerts: StockAlert[] = []): Promise<JournalEntry> {
  const { order, lines, settings, actor } = sale;
  await assertLedgerCompared(trx); // after a restore, no receipt number before the journal was compared with the cloud ledger (server/ledger/)
  // money already taken by card cannot be refused here (checkStock asks before the card is charged)
  const mayRefuse = tenders.every((p) => p.method === 'cash');
  stockAlerts.push(...(await takeStockForSale(trx, clock, { orderId: order.id, lines, settings, staffId: actor.staffId, mayRefuse })));
  const { record, totals, lineTax } = orderRecord(order, settings, actor, lines, await lineModifiers(trx, lines.map((l) => l.id)));
  for (const l of lines) {
    await trx('order_lines').where({ id: l.id }).update({ net: totals.lines.find((x) => x.key === String(l.id))!.net, tax: lineTax.get(l.id)! });
  }
  const entry = await appendEntry(trx, clock, {
    kind: 'sale',
    record: {
      ...record,
      rounding: sale.rounding,
      tenders: tenders.map((p) => ({
        method: p.method, amount: p.amount, tendered: p.tendered, change: p.change, ...(p.tip ? { tip: p.tip } : {}),
        // a card tender: what identifies it at Stripe, never a card number (server/payments/)
        ...(p.method === 'card' ? { brand: p.card_brand, last4: p.card_last4, payment_intent: p.stripe_payment_intent_id } : {}),
      })),
    },
    sales: totals.total,
  });
  const now = clock.now();
  await emitEvent(trx, clock, 'order.paid', {
    orderId: order.id, number: order.number, total: totals.total, currency: settings.currency, paidAt: now.toISOString(), receiptNo: entry.receipt_no, journalSeq: entry.seq,
  });
  await trx('orders').where({ id: order.id }).update({
    status: 'paid', paid_total: tenders.reduce((s, p) => s + p.amount, 0), rounding: sale.rounding, closed_at: now, version: order.version + 1, updated_at: now,
    subtotal: totals.subtotal, discount_total: totals.discountTotal, tax_total: totals.taxTotal, total: totals.total, receipt_no: entry.receipt_no, journal_seq: entry.seq,
    sales_date: entry.business_date, // the business date the sale counts on (reports, server/reports/)
  });
  // the receipt on the terminal's receipt printer, the drawer first for cash (none: the browser prints it)
  await queueSaleReceipt(trx, clock, { orderId: order.id, terminalId: actor.terminalId, staff: actor.staffName, terminal: actor.terminal, cash: tenders.at(-1)?.method === 'cash' });
  return entry;
}
