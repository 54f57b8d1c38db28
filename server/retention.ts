import type { Clock } from './clock';
import type { Db } from './db/knex';
import type { Logger } from './logger';
import { IDEMPOTENCY_TTL_MS, pruneIdempotencyKeys } from './api/middleware';
import { DELIVERED_RETENTION_MS, pruneDelivered } from './outbox/outbox';
import { REQUEST_KEY_TTL_MS, pruneRequestKeys } from './orders/request-keys';
import { pruneWebhookAttempts, pruneWebhookEvents } from './webhooks/service';

/**
 * How long the store keeps rows that only serve a while (README, "Configuration", keeps the same
 * table). Everything else (orders, payments, the journal, the audit log) is kept for good.
 *
 * | what | kept for | after |
 * |---|---|---|
 * | API idempotency keys | 24 h (IDEMPOTENCY_TTL_MS) | they were first used |
 * | terminal taps' keys (add line) | 24 h (REQUEST_KEY_TTL_MS) | they were first used |
 * | sessions | 30 days | they ended (sign-out, a new login, a revoked terminal) |
 * | pairing codes | 7 days | they were used or expired |
 * | outbox rows delivered (webhook deliveries with them) | 30 days (DELIVERED_RETENTION_MS) | they were delivered |
 * | webhook attempts | 30 days | they were made |
 * | webhook events | 30 days | they were made, once no delivery refers to them |
 *
 * Pending outbox rows are never pruned: they are work not yet done. The htmx forms' idempotency
 * keys of a payment, refund or void are columns of the row they guard, and are kept with it.
 */
export const RETENTION = {
  idempotencyKeysMs: IDEMPOTENCY_TTL_MS,
  requestKeysMs: REQUEST_KEY_TTL_MS,
  endedSessionsMs: 30 * 24 * 3600_000,
  closedPairingCodesMs: 7 * 24 * 3600_000,
  deliveredOutboxMs: DELIVERED_RETENTION_MS,
} as const;

/** How often the prune job runs. */
export const PRUNE_EVERY_MS = 3600_000;

/** Rows removed by one run, by kind. */
export type Pruned = Record<string, number>;

/**
 * One run of the prune job: deletes what is older than its retention above, each cutoff taken
 * from the injected clock. Each kind is pruned on its own: one that fails is logged and the
 * others still run; the next run tries it again.
 */
export async function pruneExpired(db: Db, clock: Clock, log: Logger): Promise<Pruned> {
  const before = (ms: number) => new Date(clock.now().getTime() - ms);
  const steps: Array<[string, () => Promise<number>]> = [
    ['idempotencyKeys', () => pruneIdempotencyKeys(db, clock)],
    ['requestKeys', () => pruneRequestKeys(db, clock)],
    // sessions and pairing codes belong to auth/; their deletes live here, with the other retention rules
    ['sessions', () => db('sessions').whereNotNull('ended_at').where('ended_at', '<', before(RETENTION.endedSessionsMs)).delete()],
    ['pairingCodes', () => db('pairing_codes').whereRaw('coalesce(used_at, expires_at) < ?', [before(RETENTION.closedPairingCodesMs)]).delete()],
    ['outboxDelivered', () => pruneDelivered(db, clock)],
    ['webhookAttempts', () => pruneWebhookAttempts(db, clock)],
    ['webhookEvents', () => pruneWebhookEvents(db, clock)], // after the deliveries that referred to them
  ];
  const pruned: Pruned = {};
  for (const [what, step] of steps) {
    try {
      pruned[what] = await step();
    } catch (err) {
      log.warn({ err, what }, 'prune: could not remove expired rows; the next run tries again');
    }
  }
  if (Object.values(pruned).some((n) => n > 0)) log.info({ pruned }, 'prune: expired rows removed');
  return pruned;
}

/**
 * The prune job: a run at once, then every `everyMs` (real time; each run's cutoffs are the
 * clock's). `stop()` ends the timer and waits for a run under way, so the database can close.
 */
export function schedulePrune(o: { db: Db; clock: Clock; log: Logger; everyMs?: number }): { stop(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  const run = () => {
    if (running) return; // a slow run is not stacked on
    running = pruneExpired(o.db, o.clock, o.log)
      .catch((err) => o.log.warn({ err }, 'prune: the run failed'))
      .finally(() => (running = undefined));
  };
  run();
  const timer = setInterval(run, o.everyMs ?? PRUNE_EVERY_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
