/**
 * A Stripe Terminal reader in the server-driven integration, and the PaymentIntents it takes,
 * behind a small interface (ARCHITECTURE "Devices"): the real one speaks to Stripe through the
 * stripe SDK (stripe-terminal.ts), the simulator (simulated-terminal.ts) takes cards in memory for
 * a demo with no Stripe account. The server never sees a card number: only ids, brand and last4.
 *
 * Every call that creates something takes the caller's idempotency key, so a retry (or the
 * reconciler's replay after a crash) is answered with what the first call made.
 */

export type IntentStatus = 'requires_payment_method' | 'requires_confirmation' | 'requires_action' | 'processing' | 'requires_capture' | 'canceled' | 'succeeded';

/** The parameters of a PaymentIntent create, kept by the caller so a replay sends exactly these. */
export interface IntentRequest {
  amount: number;
  currency: string;
  capture_method: 'automatic' | 'manual';
  description: string;
  metadata: Record<string, string>;
}

export interface IntentState {
  id: string;
  status: IntentStatus;
  /** what the customer pays, tip included once the reader added one */
  amount: number;
  amountReceived: number;
  amountCapturable: number;
  /** a tip the customer chose on the reader */
  tip: number;
  chargeId: string | null;
  brand: string | null;
  last4: string | null;
  /** why the last attempt failed (a decline), in Stripe's words */
  lastError: string | null;
}

export type ActionStatus = 'in_progress' | 'succeeded' | 'failed';

export interface ReaderState {
  id: string;
  label: string;
  deviceType: string;
  serialNumber: string | null;
  status: 'online' | 'offline' | 'unknown';
  action: null | {
    type: string;
    status: ActionStatus;
    paymentIntentId: string | null;
    failureCode: string | null;
    failureMessage: string | null;
  };
}

export interface RefundState {
  id: string;
  status: 'pending' | 'succeeded' | 'failed' | 'canceled' | 'requires_action';
  amount: number;
  failureReason: string | null;
}

/** What went wrong, named so the caller can say it in the staff's words. */
export type CardErrorKind =
  /** no answer from Stripe (no internet, DNS, refused, timed out) */
  | 'unreachable'
  /** the reader is offline or busy with something else */
  | 'reader-offline'
  | 'reader-busy'
  /** the PaymentIntent is not in a state that allows this (e.g. cancel of a succeeded one) */
  | 'unexpected-state'
  /** the same idempotency key came with other parameters */
  | 'idempotency'
  /** the card was declined */
  | 'declined'
  /** the key is wrong or lacks a permission */
  | 'auth'
  | 'not-found'
  | 'other';

export class CardError extends Error {
  constructor(
    readonly kind: CardErrorKind,
    message: string,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'CardError';
  }
}

export interface TippingOptions {
  /** ask the customer for a tip on the reader, on this amount */
  eligibleAmount: number;
}

export interface CardTerminal {
  /** 'stripe' or 'simulated': the devices page says which */
  readonly kind: 'stripe' | 'simulated';
  createIntent(req: IntentRequest, idempotencyKey: string): Promise<IntentState>;
  retrieveIntent(id: string): Promise<IntentState>;
  cancelIntent(id: string): Promise<IntentState>;
  captureIntent(id: string, idempotencyKey: string): Promise<IntentState>;
  registerReader(code: string, label: string, location?: string): Promise<ReaderState>;
  retrieveReader(id: string): Promise<ReaderState>;
  processIntent(readerId: string, intentId: string, tipping?: TippingOptions): Promise<ReaderState>;
  cancelReaderAction(readerId: string): Promise<ReaderState>;
  createRefund(paymentIntentId: string, amount: number, metadata: Record<string, string>, idempotencyKey: string): Promise<RefundState>;
  /** a simulated reader only (Stripe's test helper): a customer presents a card */
  presentCard?(readerId: string, card?: { number?: string; tip?: number }): Promise<ReaderState>;
}
