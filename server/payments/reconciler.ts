import { CardError, type IntentRequest } from '../../drivers/card-reader/card-terminal';
import * as orders from '../orders/service';
import type { CardDeps } from './card-deps';
import { createKey, follow } from './card-tender';
import { reconcileCardRefunds } from './card-refunds';
import { pendingCardPayments, setCardState } from './queries';

/** Stripe keeps idempotency keys at least this long: a create younger than this can be replayed to learn its intent. */
export const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;

/**
 * Settles what a crash, a restart or a lost answer left pending. For each pending card payment no
 * loop of this process follows: a row without its intent id (the crash fell between Stripe's
 * answer and our commit) replays the create with the same key and the same parameters to learn
 * it; then the payment is followed (follow: read its state, record it paid exactly once, capture
 * or cancel a requires_capture intent to match the order, cancel what no reader waits on). Card
 * refunds left pending are created again with their key the same way.
 */
export async function reconcileCardPayments(deps: CardDeps): Promise<{ followed: number; refunds: number }> {
  if (!deps.terminal) return { followed: 0, refunds: 0 };
  let followed = 0;
  for (const row of await pendingCardPayments(deps.db)) {
    if (deps.followers.has(row.id)) continue;
    if (!row.stripe_payment_intent_id) {
      if (deps.clock.now().getTime() - row.created_at.getTime() >= KEY_LIFETIME_MS) {
        await orders.settleCardPayment(deps, row.id, { status: 'failed', message: 'This card payment was never confirmed by Stripe within a day: check the Stripe dashboard before charging the customer again.' });
        continue;
      }
      try {
        const pi = await deps.terminal.createIntent(row.card_request as unknown as IntentRequest, createKey(row));
        deps.health.ok();
        await setCardState(deps.db, row.id, { stripe_payment_intent_id: pi.id });
      } catch (err) {
        if (!(err instanceof CardError)) throw err;
        deps.health.failed(err);
        deps.log.warn({ paymentId: row.id, kind: err.kind }, 'replaying a card payment\'s create failed; trying again later');
        if (err.kind !== 'unreachable') await orders.settleCardPayment(deps, row.id, { status: 'failed', message: `Stripe refused the card payment: ${err.message}` });
        continue;
      }
    }
    follow(deps, row.id);
    followed++;
  }
  return { followed, refunds: await reconcileCardRefunds(deps) };
}

/** The reconciler at start and then every `intervalMs`, stopped cleanly with the server. */
export class CardReconciler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(private readonly deps: CardDeps, private readonly intervalMs = 60_000) {}

  start(): void {
    this.run();
  }

  private run(): void {
    if (this.stopped) return;
    this.running = reconcileCardPayments(this.deps)
      .catch((err: unknown) => this.deps.log.error({ err }, 'reconciling card payments failed'))
      .finally(() => {
        if (!this.stopped) this.timer = setTimeout(() => this.run(), this.intervalMs);
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.deps.lifecycle.stopped = true; // and every follower, at its next wait
    clearTimeout(this.timer);
    await this.running;
  }
}
