import { inTransaction, type Trx } from '../db/knex';
import { audit } from '../audit/service';
import { businessDate } from '../business-date';
import { conflict, invalid, notFound, unprocessable } from '../errors';
import { appendEntry } from '../journal/service';
import { PRINT_TOPIC, queueRefundReceipt } from '../printing/service';
import { assertLedgerCompared } from '../ledger/service';
import { sessionForCash } from '../cash/service';
import { allocate, divRound, formatMoney, type Minor } from '../money';
import { getSettings } from '../settings/service';
import type { BusinessSettings } from '../settings/schema';
import { emitEvent, WEBHOOK_TOPIC } from '../webhooks/service';
import { assertOpen, type Actor, type OrderDeps } from './change';
import { lineModifiers, lockOrder, orderLines, refundedByLine, type LineRow, type OrderRow } from './queries';
import { approverRecord, orderRecord, staffRecord } from './record';
import { remainingOf, type Refunded } from './refundable';
import { assertNoCardPending } from './card-payments';

/**
 * Voids an unpaid order with a reason: a journal entry with its full record and a receipt number.
 * `idempotencyKey`: the void dialog's key, stored with the void; the same key again answers the
 * void that was made (replayed) instead of refusing a voided order.
 */
export async function voidOrder(deps: OrderDeps, orderId: number, reason: string, actor: Actor = {}, idempotencyKey?: string): Promise<{ version: number; replayed: boolean }> {
  const done = await inTransaction(deps.db, async (trx) => {
    const order = await lockOrder(trx, orderId);
    if (!order) throw notFound('That order');
    if (idempotencyKey !== undefined && order.status === 'voided' && order.void_idempotency_key === idempotencyKey) return { version: order.version, replayed: true };
    if (order.status === 'paid') throw conflict(`Order #${order.number} is paid: refund it instead.`, 'order-closed');
    assertOpen(order);
    await assertNoCardPending(trx, orderId); // a card the customer may be tapping right now (./card-payments.ts)
    if (order.paid_total > 0) throw conflict('Part of this order is already paid: it cannot be voided.', 'has-payments');
    const settings = await getSettings(trx);
    const lines = await orderLines(trx, orderId);
    const { record, totals } = orderRecord(order, settings, actor, lines, await lineModifiers(trx, lines.map((l) => l.id)));
    await assertLedgerCompared(trx); // a void takes a receipt number: none issued twice after a restore (server/ledger/)
    const entry = await appendEntry(trx, deps.clock, { kind: 'void', record: { ...record, reason }, voids: totals.total });
    const now = deps.clock.now();
    await trx('orders').where({ id: orderId }).update({
      status: 'voided', void_reason: reason, receipt_no: entry.receipt_no, journal_seq: entry.seq, closed_at: now, version: order.version + 1, updated_at: now,
      sales_date: entry.business_date, // the business date the void counts on (server/reports/)
      void_approved_by: actor.approvedBy ?? null, void_idempotency_key: idempotencyKey ?? null,
    });
    await emitEvent(trx, deps.clock, 'order.voided', { orderId, number: order.number, receiptNo: entry.receipt_no, total: totals.total, reason });
    await audit(trx, deps.clock, {
      action: 'void', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId,
      details: { orderId, orderNumber: order.number, receiptNo: entry.receipt_no, total: totals.total, reason },
    });
    return { version: order.version + 1, replayed: false };
  });
  if (!done.replayed) {
    deps.events.publish('order:changed', { orderId, version: done.version });
    deps.events.publish('outbox:written', { topic: WEBHOOK_TOPIC });
  }
  return done;
}

export interface RefundRequest {
  reason: string;
  idempotencyKey: string;
  /** per line id, how many to refund; undefined (and no amount) refunds everything not yet refunded */
  lines?: Map<number, number>;
  /** a sum of money (minor units) to give back, up to what is still refundable: spread over the lines */
  amount?: Minor;
}

/** What one refund takes from one line: a quantity (0 for a refund by amount) and its exact net and tax. */
interface Pick {
  line: LineRow;
  quantity: number;
  net: Minor;
  tax: Minor;
}

/**
 * Refunds a paid sale, whole, by line, or by an amount: a new negative record with its own receipt
 * number; the original order and its journal entry stay untouched. Amounts are the exact shares of
 * what was charged; a refund never takes more of a line than is left of it (the last refund of a
 * line takes whatever remains), so refunds never exceed a sale. A refund by amount is spread over
 * what is left of each line, in proportion, and recorded as lines with quantity 0.
 */
export async function refundOrder(deps: OrderDeps, orderId: number, req: RefundRequest, actor: Actor = {}) {
  if (req.lines && req.amount !== undefined) throw invalid('Refund either items or an amount, not both.');
  const result = await inTransaction(deps.db, async (trx) => {
    const order = await lockOrder(trx, orderId);
    if (!order) throw notFound('That order');
    const prior = await trx('refunds').where({ idempotency_key: req.idempotencyKey }).first();
    if (prior) {
      if (prior.order_id !== orderId) throw unprocessable('This idempotency key was already used for another refund.', 'idempotency-mismatch');
      return { refundId: prior.id as number, total: prior.total as number, receiptNo: prior.receipt_no as number, replayed: true };
    }
    const plan = await planRefund(trx, order, req);
    return { ...(await recordRefund(trx, deps, order, plan, req, actor, { method: 'cash' })), replayed: false };
  });
  if (!result.replayed) deps.events.publish('outbox:written', { topic: WEBHOOK_TOPIC });
  if ('printed' in result && result.printed) deps.events.publish('outbox:written', { topic: PRINT_TOPIC });
  return result;
}

/** What a refund takes, worked out under the order's lock: the lines' shares, the total, the scope. */
export interface RefundPlan {
  settings: BusinessSettings;
  picked: Pick[];
  scope: 'amount' | 'lines' | 'all';
  net: Minor;
  taxTotal: Minor;
  total: Minor;
}

/** The refund `req` asks, of the paid order locked in `trx`; refused while a card refund of it is pending (but the one `completing`). */
export async function planRefund(trx: Trx, order: OrderRow, req: { lines?: RefundRequest['lines']; amount?: RefundRequest['amount'] }, completing?: number): Promise<RefundPlan> {
  if (order.status !== 'paid') throw conflict('Only a paid sale can be refunded.', 'not-refundable');
  if (await trx('refunds').where({ order_id: order.id, status: 'pending' }).whereNot({ id: completing ?? 0 }).first('id')) {
    throw conflict('A card refund of this sale is still waiting for Stripe: it is settled first, then you can refund more.', 'refund-in-progress');
  }
  const settings = await getSettings(trx);
  const lines = await orderLines(trx, order.id);
  const done = await refundedByLine(trx, order.id);
  const picked = req.amount !== undefined ? pickAmount(lines, done, req.amount, settings.pricesIncludeTax, settings.currency) : pickLines(lines, done, req.lines);
  if (!picked.length) throw unprocessable('Nothing left to refund on this sale.', 'nothing-to-refund');
  const scope = req.amount !== undefined ? 'amount' : req.lines ? 'lines' : 'all';
  const net = picked.reduce((s, p) => s + p.net, 0);
  const taxTotal = picked.reduce((s, p) => s + p.tax, 0);
  return { settings, picked, scope, net, taxTotal, total: settings.pricesIncludeTax ? net : net + taxTotal };
}

/** How the money went back: cash from the drawer, or to a card through Stripe (the pending refund row it completes). */
export type RefundTender = { method: 'cash' } | { method: 'card'; refundId: number; brand: string | null; last4: string | null; paymentIntent: string | null; stripeRefundId: string };

/**
 * Records a refund planned under the order's lock: the journal entry with its receipt number, the
 * refund row (a card refund's pending row is completed), its lines, audit, webhook, receipt.
 */
export async function recordRefund(trx: Trx, deps: OrderDeps, order: OrderRow, plan: RefundPlan, req: Omit<RefundRequest, 'idempotencyKey'> & { idempotencyKey?: string }, actor: Actor, tender: RefundTender) {
  const { settings, picked, scope, taxTotal, total } = plan;
  const orderId = order.id;
  const byRate = new Map<number, { name: string; ppm: number; tax: number; net: number }>();
  for (const p of picked) {
    const r = byRate.get(p.line.tax_rate_id) ?? { name: p.line.tax_name, ppm: p.line.tax_ppm, tax: 0, net: 0 };
    r.tax += p.tax;
    r.net += p.net;
    byRate.set(p.line.tax_rate_id, r);
  }
  await assertLedgerCompared(trx); // a refund takes a receipt number: none issued twice after a restore (server/ledger/)
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
      scope,
      ...(req.amount !== undefined ? { amount: req.amount } : {}),
      staff: staffRecord(actor),
      approved_by: approverRecord(actor),
      terminal: actor.terminal ?? null,
      lines: picked.map((p) => ({ line_id: p.line.id, product_id: p.line.product_id, name: p.line.name, quantity: p.quantity ? -p.quantity : 0, unit_price: p.line.unit_price, net: -p.net, tax: -p.tax, tax_rate: { id: p.line.tax_rate_id, name: p.line.tax_name, ppm: p.line.tax_ppm } })),
      taxes: [...byRate.entries()].map(([id, r]) => ({ tax_rate_id: id, name: r.name, ppm: r.ppm, base: -(settings.pricesIncludeTax ? r.net - r.tax : r.net), tax: -r.tax })),
      tax_total: -taxTotal,
      total: -total,
      tenders: [tender.method === 'card' ? { method: 'card', amount: -total, brand: tender.brand, last4: tender.last4, payment_intent: tender.paymentIntent, refund: tender.stripeRefundId } : { method: 'cash', amount: -total }],
    },
    refunds: total,
  });
  const fields = { receipt_no: entry.receipt_no, journal_seq: entry.seq, total, tax_total: taxTotal, business_date: entry.business_date }; // the day it counts on (server/reports/)
  const [refund] =
    tender.method === 'card'
      ? await trx('refunds').where({ id: tender.refundId, status: 'pending' }).update({ ...fields, status: 'succeeded', stripe_refund_id: tender.stripeRefundId }).returning('id')
      : await trx('refunds')
          .insert({
            ...fields, order_id: orderId, reason: req.reason, idempotency_key: req.idempotencyKey,
            staff_id: actor.staffId ?? null, approved_by: actor.approvedBy ?? null, terminal_id: actor.terminalId ?? null, created_at: deps.clock.now(),
            drawer_session_id: await sessionForCash(trx, actor.terminalId, { required: false }), // the drawer the cash comes out of (server/cash/)
          })
          .returning('id');
  await audit(trx, deps.clock, {
    action: 'refund', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId,
    details: { orderId, refundId: refund.id, receiptNo: entry.receipt_no, total, reason: req.reason, method: tender.method },
  });
  await emitEvent(trx, deps.clock, 'refund.created', { refundId: refund.id, orderId, receiptNo: entry.receipt_no, total, currency: settings.currency, reason: req.reason, method: tender.method });
  await trx('refund_lines').insert(picked.map((p) => ({ refund_id: refund.id, order_line_id: p.line.id, quantity: p.quantity, net: p.net, tax: p.tax })));
  // its receipt on the terminal's printer, with the drawer (server/printing/)
  const printed = await queueRefundReceipt(trx, deps.clock, { refundId: refund.id, orderId, terminalId: actor.terminalId });
  return { refundId: refund.id as number, total, receiptNo: entry.receipt_no!, printed: printed !== null };
}

/** By line: per line the quantity asked (or, with no list, all that is left), at its exact share of the line. */
function pickLines(lines: LineRow[], done: Map<number, Refunded>, asked: Map<number, number> | undefined): Pick[] {
  if (asked) {
    for (const lineId of asked.keys()) {
      if (!lines.some((l) => l.id === lineId)) throw unprocessable(`Line ${lineId} is not part of this sale.`, 'unknown-line');
    }
  }
  const picked: Pick[] = [];
  for (const line of lines) {
    const prev = done.get(line.id) ?? { quantity: 0, net: 0, tax: 0 };
    const remaining = line.quantity - prev.quantity;
    const q = asked ? asked.get(line.id) ?? 0 : remaining;
    if (q === 0) continue;
    if (!Number.isInteger(q) || q < 0) throw invalid('Refund quantities must be whole numbers.');
    if (q > remaining) throw unprocessable(`Only ${remaining} of ${line.name} can still be refunded.`, 'refund-too-much');
    const left = remainingOf(line, prev, true);
    if (q === remaining) {
      picked.push({ line, quantity: q, net: left.net, tax: left.tax });
      continue;
    }
    // a share of the line, never more than a refund by amount left of it
    const net = Math.min(left.net, Number(divRound(BigInt(line.net!) * BigInt(q), BigInt(line.quantity))));
    const tax = Math.min(left.tax, Number(divRound(BigInt(line.tax!) * BigInt(q), BigInt(line.quantity))));
    picked.push({ line, quantity: q, net, tax });
  }
  return picked;
}

/**
 * By amount: `amount` (what goes back to the customer) spread over what is left of each line in
 * proportion, each line's part split into net and tax as what is left of it is.
 */
function pickAmount(lines: LineRow[], done: Map<number, Refunded>, amount: Minor, pricesIncludeTax: boolean, currency: string): Pick[] {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw invalid('The amount to refund must be more than zero.', [{ field: 'amount', message: 'must be more than zero' }]);
  const left = lines.map((line) => remainingOf(line, done.get(line.id), pricesIncludeTax));
  const refundable = left.reduce((s, l) => s + l.gross, 0);
  if (refundable <= 0) throw unprocessable('Nothing left to refund on this sale.', 'nothing-to-refund');
  if (amount > refundable) {
    throw unprocessable(`Only ${formatMoney(refundable, currency)} can still be refunded.`, 'refund-too-much', { fields: [{ field: 'amount', message: `at most ${formatMoney(refundable, currency)}` }], refundable });
  }
  const shares = allocate(amount, left.map((l) => l.gross));
  const picked: Pick[] = [];
  lines.forEach((line, i) => {
    const share = shares[i];
    const l = left[i];
    if (share === 0) return;
    const tax = share === l.gross ? l.tax : Number(divRound(BigInt(l.tax) * BigInt(share), BigInt(l.gross)));
    picked.push({ line, quantity: 0, net: pricesIncludeTax ? share : share - tax, tax });
  });
  return picked;
}
