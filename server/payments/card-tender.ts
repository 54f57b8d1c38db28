import { CardError, type IntentRequest, type IntentState } from '../../drivers/card-reader/card-terminal';
import { unavailable, unprocessable } from '../errors';
import * as orders from '../orders/service';
import type { CardPaymentRow } from '../orders/service';
import type { Minor } from '../money';
import { getSettings } from '../settings/service';
import { cardMessage, type CardDeps } from './card-deps';
import { cardPayment, readerById, readerOfTerminal, setCardState } from './queries';

export interface CardTenderRequest {
  amount: Minor;
  tip: Minor;
  tipOnReader: boolean;
  idempotencyKey: string;
  /** the reader to use; by default the one bound to the actor's terminal */
  readerId?: number;
}

/** Stripe's Idempotency-Key of a payment's create: the row's id, with its uuid so stores sharing one Stripe account never meet. */
export const createKey = (p: Pick<CardPaymentRow, 'id' | 'card_ref'>) => `pos-payment-${p.id}-${p.card_ref}`;

/**
 * A card tender: the payment row is committed `pending` first, then the PaymentIntent is made with
 * the row's key, its id committed as soon as Stripe answers, and it is sent to the reader. No
 * transaction is open while Stripe is waited on. Answers at once with the payment; the reader's
 * action is followed in the background (follow), so the terminal's status polls see it live.
 */
export async function startCardTender(deps: CardDeps, orderId: number, req: CardTenderRequest, actor: orders.Actor): Promise<CardPaymentRow> {
  const terminal = deps.terminal;
  if (!terminal) throw unavailable('Card payments are not set up on this store server (no Stripe key): take cash.', 'card-not-set-up');
  const reader = req.readerId !== undefined ? await readerById(deps.db, req.readerId) : actor.terminalId ? await readerOfTerminal(deps.db, actor.terminalId) : undefined;
  if (!reader) throw unprocessable(req.readerId !== undefined ? 'That card reader was not found.' : 'No card reader is bound to this terminal: bind one on the Devices page, or take cash.', 'no-reader');
  const store = (await getSettings(deps.db)).storeName;
  const { payment, replayed } = await orders.beginCardPayment(deps, orderId, { amount: req.amount, tip: req.tip, tipOnReader: req.tipOnReader, readerId: reader.id, idempotencyKey: req.idempotencyKey }, actor, (p) => ({
    amount: p.amount + p.tip,
    currency: p.currency.toLowerCase(),
    capture_method: deps.captureMethod,
    description: `Order ${orderId}`,
    metadata: { order_id: String(orderId), payment_id: String(p.id), store },
  }) satisfies IntentRequest);
  if (replayed) {
    if (payment.status === 'pending' && payment.stripe_payment_intent_id) follow(deps, payment.id);
    return payment;
  }
  // this request starts it: the reconciler leaves it alone until it is handed to follow()
  deps.followers.add(payment.id);
  try {
    return await sendToReader(deps, payment, reader.stripe_reader_id);
  } finally {
    deps.followers.delete(payment.id);
  }
}

async function sendToReader(deps: CardDeps, payment: CardPaymentRow, readerId: string): Promise<CardPaymentRow> {
  const terminal = deps.terminal!;
  let intent: IntentState;
  try {
    intent = await terminal.createIntent(payment.card_request as unknown as IntentRequest, createKey(payment));
    deps.health.ok();
  } catch (err) {
    // no intent was sent to a reader: nothing can be charged, whatever Stripe made
    return fail(deps, payment.id, err);
  }
  await setCardState(deps.db, payment.id, { stripe_payment_intent_id: intent.id, card_state: 'waiting' });
  try {
    await terminal.processIntent(readerId, intent.id, payment.tip_on_reader ? { eligibleAmount: payment.amount } : undefined);
  } catch (err) {
    await terminal.cancelIntent(intent.id).catch((e: unknown) => deps.log.warn({ err: e, paymentId: payment.id }, 'canceling an intent the reader refused failed'));
    return fail(deps, payment.id, err);
  }
  deps.followers.delete(payment.id);
  follow(deps, payment.id);
  return (await cardPayment(deps.db, payment.id))!;
}

async function fail(deps: CardDeps, paymentId: number, err: unknown): Promise<CardPaymentRow> {
  const e = err instanceof CardError ? err : new CardError('other', (err as Error).message);
  deps.health.failed(e);
  deps.log.warn({ paymentId, kind: e.kind, code: e.code }, 'card payment failed at Stripe');
  await orders.settleCardPayment(deps, paymentId, { status: 'failed', message: cardMessage(e) });
  return (await cardPayment(deps.db, paymentId))!;
}


/**
 * Follows a pending payment until it is settled: reads Stripe, waits (backing off), reads again.
 * One loop per payment in this process; the reconciler starts loops for what no loop follows.
 */
export function follow(deps: CardDeps, paymentId: number): void {
  if (deps.followers.has(paymentId)) return;
  deps.followers.add(paymentId);
  void (async () => {
    let wait = deps.polling.firstMs;
    try {
      for (;;) {
        if (deps.lifecycle.stopped || (await checkCardPayment(deps, paymentId))) return;
        await deps.sleep(wait);
        wait = Math.min(wait * 2, deps.polling.maxMs);
      }
    } catch (err) {
      deps.log.error({ err, paymentId }, 'following a card payment stopped; the reconciler takes it up');
    } finally {
      deps.followers.delete(paymentId);
    }
  })();
}

/**
 * Reads the payment's intent (and reader) once and acts on it. True once the payment is settled
 * (or no longer pending); false while it waits for the customer, or Stripe cannot be reached.
 */
export async function checkCardPayment(deps: CardDeps, paymentId: number): Promise<boolean> {
  const row = await cardPayment(deps.db, paymentId);
  if (!row || row.status !== 'pending') return true;
  if (!deps.terminal || !row.stripe_payment_intent_id) return false;
  try {
    const pi = await deps.terminal.retrieveIntent(row.stripe_payment_intent_id);
    deps.health.ok();
    if (await settleFromIntent(deps, row, pi)) return true;
    const reader = row.reader_id ? await readerById(deps.db, row.reader_id) : undefined;
    const action = reader ? (await deps.terminal.retrieveReader(reader.stripe_reader_id)).action : null;
    const ours = action?.paymentIntentId === pi.id ? action : null;
    if (ours?.status === 'failed') {
      await deps.terminal.cancelIntent(pi.id).catch(() => undefined);
      const declined = ours.failureCode === 'card_declined' || ours.failureCode?.endsWith('_decline');
      const message = declined ? `The card was declined (${ours.failureMessage ?? pi.lastError ?? 'declined'}). Try another card, or take cash.` : `The reader stopped the payment: ${ours.failureMessage ?? 'no reason given'}. Try again, or take cash.`;
      await orders.settleCardPayment(deps, row.id, { status: 'failed', message });
      return true;
    }
    const state = pi.status === 'processing' ? 'processing' : 'waiting';
    if (row.card_state !== state) {
      await setCardState(deps.db, row.id, { card_state: state });
    }
    if (deps.clock.now().getTime() - row.created_at.getTime() >= deps.polling.timeoutMs || (!ours && pi.status === 'requires_payment_method')) {
      await cancelCardPayment(deps, row.id, ours ? 'No card was presented in time: the payment was canceled. Try again, or take cash.' : 'The reader is no longer waiting for this payment: it was canceled. Try again, or take cash.');
      return true;
    }
    return false;
  } catch (err) {
    if (err instanceof CardError) {
      deps.health.failed(err);
      deps.log.warn({ paymentId, kind: err.kind, code: err.code }, 'reading a card payment from Stripe failed; trying again');
      return false;
    }
    throw err;
  }
}

/** Settles the payment when the intent says how it ended; a captured-on-demand intent is captured first. */
async function settleFromIntent(deps: CardDeps, row: CardPaymentRow, pi: IntentState): Promise<boolean> {
  if (pi.status === 'requires_capture') {
    const order = await orders.getOrderView(deps.db, row.order_id);
    // the reconciler's rule: capture what the order still wants, cancel what it does not
    if (order.order.status !== 'open') {
      await deps.terminal!.cancelIntent(pi.id);
      await orders.settleCardPayment(deps, row.id, { status: 'canceled', message: 'The order was closed another way: the card authorisation was released.' });
      return true;
    }
    pi = await deps.terminal!.captureIntent(pi.id, `pos-capture-${row.id}-${row.card_ref}`);
  }
  if (pi.status === 'succeeded') {
    if (deps.crashAfterStripeSuccess) process.kill(process.pid, 'SIGKILL'); // TEST_CRASH_AT=card-succeeded: the crash of issue 22's kill test
    await orders.settleCardPayment(deps, row.id, { status: 'succeeded', chargeId: pi.chargeId, brand: pi.brand, last4: pi.last4, tip: pi.tip, received: pi.amountReceived });
    return true;
  }
  if (pi.status === 'canceled') {
    await orders.settleCardPayment(deps, row.id, { status: 'canceled', message: 'The card payment was canceled. Try again, or take cash.' });
    return true;
  }
  return false;
}

/**
 * Cancel (a staff member's tap, or the timeout): the reader's action first, then the intent. When
 * the intent turns out to have succeeded after all (the customer tapped late), that payment is
 * recorded instead. Answers the payment as it now is.
 */
export async function cancelCardPayment(deps: CardDeps, paymentId: number, message = 'The card payment was canceled. Try again, or take cash.'): Promise<CardPaymentRow> {
  const row = await cardPayment(deps.db, paymentId);
  if (!row) throw unprocessable('That card payment was not found.', 'not-found');
  if (row.status !== 'pending') return row;
  const terminal = deps.terminal;
  if (!terminal) throw unavailable('Card payments are not set up on this store server.', 'card-not-set-up');
  if (!row.stripe_payment_intent_id) throw unprocessable('The card payment is still being started: try Cancel again in a moment.', 'card-starting');
  const reader = row.reader_id ? await readerById(deps.db, row.reader_id) : undefined;
  try {
    if (reader) await terminal.cancelReaderAction(reader.stripe_reader_id).catch((err: unknown) => {
      if (err instanceof CardError && err.kind === 'unreachable') throw err;
    });
    await terminal.cancelIntent(row.stripe_payment_intent_id);
    await orders.settleCardPayment(deps, row.id, { status: 'canceled', message });
  } catch (err) {
    if (!(err instanceof CardError)) throw err;
    deps.health.failed(err);
    if (err.kind === 'unreachable') throw unavailable('Stripe cannot be reached, so the card payment could not be canceled yet: it is checked again until Stripe answers. Do not take cash for it until then.', 'stripe-unreachable');
    // the intent could not be canceled: it has an outcome (a late tap), record it
    await settleFromIntent(deps, row, await terminal.retrieveIntent(row.stripe_payment_intent_id));
  }
  return (await cardPayment(deps.db, row.id))!;
}
