import type { CardTerminal } from '../../drivers/card-reader/card-terminal';
import { createCardTerminal } from '../../drivers/card-reader/create-card-terminal';
import type { Clock } from '../clock';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import type { Publisher } from '../events';
import type { Logger } from '../logger';
import { DEFAULT_POLLING, StripeHealth, type CardDeps, type CardPolling } from './card-deps';

/**
 * Card payments through Stripe Terminal (issue 22), by capability: card-tender.ts (the tender, its
 * follower, Cancel), reconciler.ts (what a crash or a lost answer left pending), card-refunds.ts,
 * readers.ts (registered readers bound to terminals), card-deps.ts (what they share). The order's
 * side (the pending row, its settlement through closeSale) is server/orders/card-payments.ts.
 */
export { cancelCardPayment, checkCardPayment, follow, startCardTender, type CardTenderRequest } from './card-tender';
export { CardReconciler, reconcileCardPayments } from './reconciler';
export { refundToCard, sendCardRefund, reconcileCardRefunds } from './card-refunds';
export { bindReader, listReadersWithStatus, registerReader, type ReaderView } from './readers';
export { cardMessage, StripeHealth, type CardDeps, type CardPolling } from './card-deps';
export { pendingCardOf } from './queries';

export interface CardSetup {
  db: Db;
  clock: Clock;
  events: Publisher;
  log: Logger;
  config: Config;
  /** a demo without a Stripe key takes cards on the simulator */
  demo?: boolean;
  /** instead of the one the config picks (tests) */
  terminal?: CardTerminal | null;
  polling?: Partial<CardPolling>;
  sleep?: (ms: number) => Promise<void>;
}

/** The card payments' dependencies, made once by the composition root (or a test's boot). */
export function createCardDeps(s: CardSetup): CardDeps {
  const terminal = s.terminal !== undefined ? s.terminal : createCardTerminal({ secretKey: s.config.STRIPE_SECRET_KEY, apiBase: s.config.STRIPE_API_BASE, demo: s.demo, now: () => s.clock.now().getTime() });
  return {
    db: s.db, clock: s.clock, events: s.events, log: s.log, terminal,
    captureMethod: s.config.STRIPE_CAPTURE_METHOD,
    polling: { ...DEFAULT_POLLING, ...s.polling },
    sleep: s.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    health: new StripeHealth(s.clock),
    followers: new Set(),
    lifecycle: { stopped: false },
    crashAfterStripeSuccess: s.config.TEST_CRASH_AT === 'card-succeeded',
  };
}
