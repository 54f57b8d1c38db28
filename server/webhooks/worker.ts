import dns from 'node:dns';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import type { Logger } from '../logger';
import { getSettings } from '../settings/service';
import { signBody } from './service';
import { postTo } from './send';
import { resolveTarget, type Lookup } from './target';

// after every close that wrote events, and on a timer: one fixed text, sent without knex; the
// state written out, so the partial index of pending deliveries (migration 0013) serves it
export const DUE_SQL = `select distinct d.subscription_id from webhook_deliveries d
  join webhook_subscriptions s on s.id = d.subscription_id
  where d.state = 'pending' and s.active and d.next_attempt_at <= ?`;

export interface WorkerOptions {
  db: Db;
  clock: Clock;
  log: Logger;
  /** how long one delivery may take before it counts as failed */
  timeoutMs?: number;
  /** how often to look for due deliveries when nothing wakes the worker */
  pollMs?: number;
  /** resolves a target's name to all its addresses before each delivery (tests answer without DNS) */
  lookup?: Lookup;
}

const dnsLookup: Lookup = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/** Retry delays: 1 s, 2 s, 4 s … capped at 5 minutes, ±20 % jitter so endpoints are not stampeded. */
export function backoffMs(attempts: number, random = Math.random): number {
  const base = Math.min(300_000, 1000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * Delivers the outbox: per subscription, strictly in event order (the next event waits until the
 * one before it is delivered), at least once, HMAC-signed, with backoff and a log of every attempt.
 * Runs outside every transaction; a hanging endpoint only holds up its own subscription. Each
 * attempt resolves the target and connects only to an address that passed ./target.ts (a refusal
 * is a failed attempt whose error says why); redirects are failures, never followed.
 */
export class WebhookWorker {
  private timer?: NodeJS.Timeout;
  private inFlight = new Map<number, Promise<void>>();
  private stopped = false;
  private controllers = new Set<AbortController>();

  constructor(private readonly o: WorkerOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.o.pollMs ?? 500);
    this.timer.unref();
  }

  /** Look now (after a commit that wrote events). */
  wake(): void {
    if (!this.stopped) void this.tick();
  }

  /**
   * Looks for subscriptions with due deliveries and starts draining each. Wakes that come while a
   * look is under way are answered by one more look after it (a rush closes many sales at once).
   */
  tick(): Promise<void> {
    if (this.looking) {
      this.lookAgain = true;
      return this.looking;
    }
    this.looking = (async () => {
      try {
        do {
          this.lookAgain = false;
          await this.look();
        } while (this.lookAgain && !this.stopped);
      } finally {
        this.looking = undefined;
      }
    })();
    return this.looking;
  }
  private looking?: Promise<void>;
  private lookAgain = false;

  private async look(): Promise<void> {
    if (this.stopped) return;
    let due: number[];
    try {
      due = ((await this.o.db.raw(DUE_SQL, [this.o.clock.now()])).rows as Array<{ subscription_id: number }>).map((r) => r.subscription_id);
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'webhooks: cannot read the outbox');
      return;
    }
    for (const id of due) {
      if (this.inFlight.has(id)) continue;
      const p = this.drain(id).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, p);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const c of this.controllers) c.abort();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private async drain(subscriptionId: number): Promise<void> {
    while (!this.stopped) {
      const next = await this.o.db('webhook_deliveries as d')
        .join('webhook_events as e', 'e.seq', 'd.event_seq')
        .join('webhook_subscriptions as s', 's.id', 'd.subscription_id')
        .where({ 'd.subscription_id': subscriptionId, 'd.state': 'pending', 's.active': true })
        .orderBy('d.event_seq')
        .first('d.id', 'd.attempts', 'd.next_attempt_at', 'e.id as event_id', 'e.seq', 'e.type', 'e.data', 'e.created_at', 's.url', 's.secret');
      if (!next || next.next_attempt_at.getTime() > this.o.clock.now().getTime()) return;
      const ok = await this.attempt(next);
      if (!ok) return; // later events wait behind this one: order per subscription
    }
  }

  private async attempt(d: {
    id: number; attempts: number; event_id: string; seq: number; type: string; data: unknown; created_at: Date; url: string; secret: string;
  }): Promise<boolean> {
    const body = JSON.stringify({ id: d.event_id, type: d.type, sequence: d.seq, createdAt: d.created_at.toISOString(), data: d.data });
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(() => controller.abort(), this.o.timeoutMs ?? 5000);
    const started = Date.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const url = new URL(d.url);
      const { webhooksAllowPrivateTargets } = await getSettings(this.o.db);
      const to = await untilAborted(resolveTarget(url.hostname, this.o.lookup ?? dnsLookup, webhooksAllowPrivateTargets), controller.signal);
      status = await postTo(url, to, {
        'Content-Type': 'application/json',
        'User-Agent': 'store-server-webhooks',
        'X-Webhook-Id': d.event_id,
        'X-Webhook-Event': d.type,
        'X-Webhook-Sequence': String(d.seq),
        'X-Webhook-Signature': signBody(d.secret, body),
      }, body, controller.signal);
      if (status >= 300 && status < 400) error = `HTTP ${status}: redirects are not followed`;
      else if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (err) {
      error = controller.signal.aborted ? 'timed out' : (err as Error).message;
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
    const now = this.o.clock.now();
    const attempts = d.attempts + 1;
    try {
      await this.o.db('webhook_attempts').insert({ delivery_id: d.id, at: now, status, error, duration_ms: Date.now() - started });
      if (!error) {
        await this.o.db('webhook_deliveries').where({ id: d.id }).update({ state: 'delivered', attempts, delivered_at: now, last_status: status, last_error: null });
        return true;
      }
      await this.o.db('webhook_deliveries').where({ id: d.id }).update({
        attempts, last_status: status, last_error: error, next_attempt_at: new Date(now.getTime() + backoffMs(attempts)),
      });
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'webhooks: cannot record an attempt');
    }
    this.o.log.info({ delivery: d.id, url: d.url, error, attempts }, 'webhook delivery failed; will retry');
    return false;
  }
}

/** `p`, or a rejection as soon as `signal` aborts (a name lookup cannot be cancelled, only left). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
