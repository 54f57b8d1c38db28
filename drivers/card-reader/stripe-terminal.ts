import Stripe from 'stripe';
import { CardError, type CardErrorKind, type CardTerminal, type IntentRequest, type IntentState, type IntentStatus, type ReaderState, type RefundState, type TippingOptions } from './card-terminal';

export interface StripeTerminalOptions {
  /** a restricted key is enough (README: which permissions) */
  secretKey: string;
  /** another API base than https://api.stripe.com (tests: the loopback fake) */
  apiBase?: string;
  /** per request; a call that gets no answer in time is "unreachable" */
  timeoutMs?: number;
}

/**
 * Stripe Terminal, server-driven, through the stripe SDK: PaymentIntents (card_present) are
 * processed on a registered reader, and the reader's action and the intent are read back by
 * polling (the store server sits behind the shop's router, where webhooks cannot reach it).
 */
export class StripeTerminal implements CardTerminal {
  readonly kind = 'stripe';
  private readonly stripe: Stripe;

  constructor(opts: StripeTerminalOptions) {
    const base = opts.apiBase ? new URL(opts.apiBase) : undefined;
    this.stripe = new Stripe(opts.secretKey, {
      maxNetworkRetries: 1, // the same Idempotency-Key, so a retry never charges twice
      timeout: opts.timeoutMs ?? 15_000,
      telemetry: false,
      ...(base ? { host: base.hostname, port: Number(base.port || (base.protocol === 'http:' ? 80 : 443)), protocol: base.protocol === 'http:' ? 'http' : 'https' } : {}),
    });
  }

  createIntent(req: IntentRequest, idempotencyKey: string): Promise<IntentState> {
    return call(async () => intentState(await this.stripe.paymentIntents.create({ amount: req.amount, currency: req.currency, capture_method: req.capture_method, description: req.description, metadata: req.metadata, allowed_payment_method_types: ['card_present'], expand: ['latest_charge'] }, { idempotencyKey })));
  }

  retrieveIntent(id: string): Promise<IntentState> {
    return call(async () => intentState(await this.stripe.paymentIntents.retrieve(id, { expand: ['latest_charge'] })));
  }

  cancelIntent(id: string): Promise<IntentState> {
    return call(async () => intentState(await this.stripe.paymentIntents.cancel(id, { expand: ['latest_charge'] })));
  }

  captureIntent(id: string, idempotencyKey: string): Promise<IntentState> {
    return call(async () => intentState(await this.stripe.paymentIntents.capture(id, { expand: ['latest_charge'] }, { idempotencyKey })));
  }

  registerReader(code: string, label: string, location?: string): Promise<ReaderState> {
    return call(async () => readerState(await this.stripe.terminal.readers.create({ registration_code: code, label, ...(location ? { location } : {}) })));
  }

  retrieveReader(id: string): Promise<ReaderState> {
    return call(async () => {
      return readerState(await this.stripe.terminal.readers.retrieve(id));
    });
  }

  processIntent(readerId: string, intentId: string, tipping?: TippingOptions): Promise<ReaderState> {
    const process_config = tipping ? { tipping: { amount_eligible: tipping.eligibleAmount } } : { skip_tipping: true };
    return call(async () => readerState(await this.stripe.terminal.readers.processPaymentIntent(readerId, { payment_intent: intentId, process_config })));
  }

  cancelReaderAction(readerId: string): Promise<ReaderState> {
    return call(async () => readerState(await this.stripe.terminal.readers.cancelAction(readerId)));
  }

  createRefund(paymentIntentId: string, amount: number, metadata: Record<string, string>, idempotencyKey: string): Promise<RefundState> {
    return call(async () => refundState(await this.stripe.refunds.create({ payment_intent: paymentIntentId, amount, metadata }, { idempotencyKey })));
  }

  presentCard(readerId: string, card: { number?: string; tip?: number } = {}): Promise<ReaderState> {
    return call(async () =>
      readerState(
        await this.stripe.testHelpers.terminal.readers.presentPaymentMethod(readerId, {
          type: 'card_present',
          ...(card.number ? { card_present: { number: card.number } } : {}),
          ...(card.tip ? { amount_tip: card.tip } : {}),
        }),
      ),
    );
  }
}

/** A Stripe SDK error in our vocabulary; its message never carries the key (Stripe's messages do not). */
export function toCardError(err: unknown): CardError {
  if (err instanceof CardError) return err;
  if (err instanceof Stripe.errors.StripeError) {
    const code = err.code ?? null;
    const kind: CardErrorKind =
      err instanceof Stripe.errors.StripeConnectionError ? 'unreachable'
      : err instanceof Stripe.errors.StripeIdempotencyError ? 'idempotency'
      : err instanceof Stripe.errors.StripeAuthenticationError || err instanceof Stripe.errors.StripePermissionError ? 'auth'
      : err instanceof Stripe.errors.StripeCardError ? 'declined'
      : code === 'terminal_reader_offline' ? 'reader-offline'
      : code === 'terminal_reader_busy' ? 'reader-busy'
      : code === 'payment_intent_unexpected_state' ? 'unexpected-state'
      : code === 'resource_missing' ? 'not-found'
      : 'other';
    return new CardError(kind, err.message, code);
  }
  return new CardError('other', err instanceof Error ? err.message : String(err));
}

async function call<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw toCardError(err);
  }
}

const INTENT_STATUSES: IntentStatus[] = ['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing', 'requires_capture', 'canceled', 'succeeded'];

export function intentState(pi: Stripe.PaymentIntent): IntentState {
  const charge = pi.latest_charge && typeof pi.latest_charge === 'object' ? pi.latest_charge : null;
  const card = charge?.payment_method_details?.card_present ?? null;
  return {
    id: pi.id,
    status: INTENT_STATUSES.find((x) => x === pi.status) ?? 'processing',
    amount: pi.amount,
    amountReceived: pi.amount_received,
    amountCapturable: pi.amount_capturable,
    tip: pi.amount_details?.tip?.amount ?? 0,
    chargeId: typeof pi.latest_charge === 'string' ? pi.latest_charge : charge?.id ?? null,
    brand: card?.brand ?? null,
    last4: card?.last4 ?? null,
    lastError: pi.last_payment_error?.message ?? null,
  };
}

export function readerState(r: Stripe.Terminal.Reader | Stripe.Terminal.DeletedReader): ReaderState {
  if (r.deleted) throw new CardError('not-found', `Reader ${r.id} was deleted in Stripe.`);
  const a = r.action;
  const pi = a?.process_payment_intent?.payment_intent;
  return {
    id: r.id,
    label: r.label,
    deviceType: r.device_type,
    serialNumber: r.serial_number ?? null,
    status: r.status === 'online' ? 'online' : r.status === 'offline' ? 'offline' : 'unknown',
    action: a
      ? {
          type: a.type,
          status: a.status === 'in_progress' ? 'in_progress' : a.status === 'succeeded' ? 'succeeded' : 'failed',
          paymentIntentId: typeof pi === 'string' ? pi : pi?.id ?? null,
          failureCode: a.failure_code,
          failureMessage: a.failure_message,
        }
      : null,
  };
}

function refundState(r: Stripe.Refund): RefundState {
  const s = r.status;
  return {
    id: r.id,
    status: s === 'pending' || s === 'succeeded' || s === 'failed' || s === 'canceled' || s === 'requires_action' ? s : 'pending',
    amount: r.amount,
    failureReason: r.failure_reason ?? null,
  };
}
