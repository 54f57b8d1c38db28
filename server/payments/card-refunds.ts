import crypto from 'node:crypto';
import { CardError } from '../../drivers/card-reader/card-terminal';
import { inTransaction } from '../db/knex';
import { notFound, unavailable, unprocessable } from '../errors';
import { formatMoney } from '../money';
import * as orders from '../orders/service';
import type { CardPaymentRow } from '../orders/service';
import { PRINT_TOPIC } from '../printing/service';
import { WEBHOOK_TOPIC } from '../webhooks/service';
import { cardMessage, type CardDeps } from './card-deps';

interface RefundRow {
  id: number;
  order_id: number;
  payment_id: number;
  status: 'pending' | 'succeeded' | 'failed';
  total: number;
  tax_total: number;
  reason: string;
  card_ref: string;
  card_request: { lines: Array<[number, number]> | null; amount: number | null };
  receipt_no: number | null;
  staff_id: number | null;
  approved_by: number | null;
  terminal_id: number | null;
  failure_message: string | null;
  created_at: Date;
}

const refundKey = (r: Pick<RefundRow, 'id' | 'card_ref'>) => `pos-refund-${r.id}-${r.card_ref}`;

/**
 * A refund back to the card that paid (whole, by line or by an amount, as a cash refund is
 * planned): written `pending` under the order's lock (no receipt number, nothing in the journal
 * yet) and committed before Stripe is called with the row's key; recorded (journal entry, receipt
 * number) once Stripe says the money goes back. Stripe unreachable: it stays pending and the
 * reconciler sends it again with the same key.
 */
export async function refundToCard(deps: CardDeps, orderId: number, req: orders.RefundRequest & { paymentId?: number }, actor: orders.Actor) {
  if (!deps.terminal) throw unavailable('Card refunds need Stripe, which is not set up on this store server: refund in cash.', 'card-not-set-up');
  if (req.lines && req.amount !== undefined) throw unprocessable('Refund either items or an amount, not both.');
  const row = await inTransaction(deps.db, async (trx): Promise<RefundRow> => {
    const order = await orders.lockOrder(trx, orderId);
    if (!order) throw notFound('That order');
    const prior: RefundRow | undefined = await trx('refunds').where({ idempotency_key: req.idempotencyKey }).first();
    if (prior) {
      if (prior.order_id !== orderId) throw unprocessable('This idempotency key was already used for another refund.', 'idempotency-mismatch');
      return prior;
    }
    const plan = await orders.planRefund(trx, order, req);
    const cards: Array<CardPaymentRow & { refunded: string | null }> = await trx('payments as p')
      .where({ 'p.order_id': orderId, 'p.method': 'card', 'p.status': 'succeeded' })
      .modify((q) => (req.paymentId !== undefined ? q.where('p.id', req.paymentId) : q))
      .select('p.*', trx.raw("(select sum(r.total) from refunds r where r.payment_id = p.id and r.status <> 'failed') as refunded"))
      .orderBy('p.id');
    const left = (p: (typeof cards)[number]) => p.amount - Number(p.refunded ?? 0);
    const card = cards.sort((a, b) => left(b) - left(a))[0];
    if (!card) throw unprocessable('No card paid this sale: refund it in cash.', 'no-card-payment');
    if (plan.total > left(card)) {
      throw unprocessable(`Only ${formatMoney(left(card), plan.settings.currency)} can go back to the ${card.card_brand ?? 'card'} ending ${card.card_last4 ?? '····'}: refund the rest in cash.`, 'refund-too-much');
    }
    const [made]: RefundRow[] = await trx('refunds')
      .insert({
        order_id: orderId, status: 'pending', method: 'card', payment_id: card.id, card_ref: crypto.randomUUID(), reason: req.reason, total: plan.total, tax_total: plan.taxTotal,
        card_request: JSON.stringify({ lines: req.lines ? [...req.lines.entries()] : null, amount: req.amount ?? null }), idempotency_key: req.idempotencyKey,
        staff_id: actor.staffId ?? null, approved_by: actor.approvedBy ?? null, terminal_id: actor.terminalId ?? null, created_at: deps.clock.now(),
      })
      .returning('*');
    return made;
  });
  return sendCardRefund(deps, row.id);
}

/** Sends a pending card refund to Stripe (again, with its key) and records it when Stripe takes it. */
export async function sendCardRefund(deps: CardDeps, refundId: number): Promise<RefundRow> {
  const row: RefundRow = await deps.db('refunds').where({ id: refundId }).first();
  if (row.status !== 'pending') return row;
  const payment: CardPaymentRow = await deps.db('payments').where({ id: row.payment_id }).first();
  let stripeRefundId: string;
  try {
    const re = await deps.terminal!.createRefund(payment.stripe_payment_intent_id!, row.total, { order_id: String(row.order_id), refund_id: String(row.id) }, refundKey(row));
    deps.health.ok();
    if (re.status === 'failed' || re.status === 'canceled') throw new CardError('other', `Stripe could not refund it (${re.failureReason ?? re.status}).`);
    stripeRefundId = re.id;
  } catch (err) {
    if (!(err instanceof CardError)) throw err;
    deps.health.failed(err);
    if (err.kind === 'unreachable') throw unavailable('Stripe cannot be reached: the card refund is kept and sent as soon as Stripe answers. Nothing was refunded yet.', 'stripe-unreachable');
    const message = err.kind === 'other' ? `Stripe refused the card refund: ${err.message} Refund in cash instead.` : cardMessage(err);
    await deps.db('refunds').where({ id: row.id, status: 'pending' }).update({ status: 'failed', failure_message: message });
    throw unprocessable(message, 'card-refund-failed');
  }
  const printed = await inTransaction(deps.db, async (trx) => {
    const order = (await orders.lockOrder(trx, row.order_id))!;
    const again: RefundRow = await trx('refunds').where({ id: row.id }).forUpdate().first();
    if (again.status !== 'pending') return false;
    const req = { reason: row.reason, lines: row.card_request.lines ? new Map(row.card_request.lines) : undefined, amount: row.card_request.amount ?? undefined };
    const plan = await orders.planRefund(trx, order, req, row.id);
    if (plan.total !== row.total) throw new Error(`card refund ${row.id}: planned ${plan.total}, sent ${row.total}`);
    const staff: { name: string } | undefined = row.staff_id ? await trx('staff').where({ id: row.staff_id }).first('name') : undefined;
    const actor: orders.Actor = { staffId: row.staff_id, staffName: staff?.name ?? null, approvedBy: row.approved_by, terminalId: row.terminal_id };
    const done = await orders.recordRefund(trx, deps, order, plan, req, actor, {
      method: 'card', refundId: row.id, brand: payment.card_brand, last4: payment.card_last4, paymentIntent: payment.stripe_payment_intent_id, stripeRefundId,
    });
    return done.printed;
  });
  deps.events.publish('outbox:written', { topic: WEBHOOK_TOPIC });
  if (printed) deps.events.publish('outbox:written', { topic: PRINT_TOPIC });
  return deps.db('refunds').where({ id: row.id }).first();
}

/** The reconciler's part: every pending card refund sent again with its key. Answers how many were settled. */
export async function reconcileCardRefunds(deps: CardDeps): Promise<number> {
  let settled = 0;
  const pending: Array<{ id: number }> = await deps.db('refunds').where({ status: 'pending', method: 'card' }).orderBy('id').select('id');
  for (const { id } of pending) {
    try {
      if ((await sendCardRefund(deps, id)).status !== 'pending') settled++;
    } catch (err) {
      deps.log.warn({ err, refundId: id }, 'a pending card refund is still not through');
    }
  }
  return settled;
}
