import type { CardError, CardTerminal } from '../../drivers/card-reader/card-terminal';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import type { Publisher } from '../events';
import type { Logger } from '../logger';

/** How the server follows a reader's action and a PaymentIntent: polling with backoff, and when it gives up. */
export interface CardPolling {
  /** the first wait before reading Stripe again; doubled each time up to maxMs */
  firstMs: number;
  maxMs: number;
  /** how long a customer has to tap before the reader action and the intent are canceled (the injected clock) */
  timeoutMs: number;
}

export const DEFAULT_POLLING: CardPolling = { firstMs: 500, maxMs: 2000, timeoutMs: 90_000 };

export interface CardDeps {
  db: Db;
  clock: Clock;
  events: Publisher;
  log: Logger;
  /** Stripe (or the demo's simulator); null when card payments are not set up */
  terminal: CardTerminal | null;
  /** capture_method of new PaymentIntents (STRIPE_CAPTURE_METHOD) */
  captureMethod: 'automatic' | 'manual';
  polling: CardPolling;
  /** waits between polls; tests pass a short one */
  sleep: (ms: number) => Promise<void>;
  health: StripeHealth;
  /** what follows payments in this process: one loop per payment */
  followers: Set<number>;
  /** set when the server stops: the followers end at their next wait */
  lifecycle: { stopped: boolean };
  /** tests only (TEST_CRASH_AT=card-succeeded): the process kills itself once Stripe said succeeded, before our commit */
  crashAfterStripeSuccess?: boolean;
}

/** What the last call to Stripe said about reaching it: the card button says when it cannot. */
export class StripeHealth {
  unreachableSince: Date | null = null;
  lastError: string | null = null;

  constructor(private readonly clock: Clock) {}

  ok(): void {
    this.unreachableSince = null;
    this.lastError = null;
  }

  failed(err: CardError): void {
    if (err.kind !== 'unreachable') return;
    this.unreachableSince ??= this.clock.now();
    this.lastError = err.message;
  }

  get reachable(): boolean {
    return this.unreachableSince === null;
  }
}

/** A Stripe failure in the staff's words: what happened and what to do next. */
export function cardMessage(err: CardError): string {
  switch (err.kind) {
    case 'unreachable':
      return 'Stripe cannot be reached (is the internet down?). No card was charged: take cash, or try the card again later.';
    case 'reader-offline':
      return 'The card reader is offline: check that it is on and connected, or take cash.';
    case 'reader-busy':
      return 'The card reader is busy with another payment: wait for it, or cancel that one first.';
    case 'declined':
      return `The card was declined (${err.message}). Try another card, or take cash.`;
    case 'auth':
      return 'Stripe refused the store\'s key: ask the owner to check the Stripe key in the server\'s settings. Take cash for now.';
    default:
      return `Stripe refused the card payment: ${err.message} Take cash, or try again.`;
  }
}
