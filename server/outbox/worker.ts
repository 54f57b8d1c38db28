import type { Clock } from '../clock';
import type { Db, Trx } from '../db/knex';
import type { Logger } from '../logger';
import type { OutboxRow } from './outbox';

/** What one attempt at delivering a row came to: delivered when `error` is null. */
export interface Attempt {
  error: string | null;
}

/**
 * How one topic delivers its rows. To add a topic (print jobs, say):
 *
 * 1. in the business transaction, `enqueue(trx, clock, [{ topic: 'print', key: `printer:${id}`, payload }])`
 *    (./outbox.ts), and after the commit `events.publish('outbox:written', { topic: 'print' })`;
 * 2. write a TopicHandler: `deliver` makes one attempt, outside every transaction, and says how
 *    it went; `record`, if the topic keeps a log of its own, writes it in the transaction that
 *    settles the row;
 * 3. register it in the composition root (main.ts, and test/helpers/app.ts):
 *    `new OutboxWorker({ …, topics: { webhook: …, print: printTopic(deps) } })`.
 *
 * The worker does the rest: ordering per key, retries with backoff on the injected clock, the
 * row's state. A row whose topic has no handler waits (logged) until one is registered.
 */
export interface TopicHandler<A extends Attempt = Attempt> {
  /**
   * One attempt at delivering `row`. `signal` aborts when the attempt takes longer than
   * `timeoutMs` or the worker stops. A throw is a failed attempt with the error's message.
   */
  deliver(row: OutboxRow, signal: AbortSignal): Promise<A>;
  /** The topic's own log of an attempt, written with the row's new state (a thrown attempt comes as `{ error }` alone). */
  record?(trx: Trx, row: OutboxRow, attempt: Partial<A> & Attempt, at: Date, durationMs: number): Promise<void>;
  /** how long one attempt may take before it is aborted and counts as failed (default: the worker's) */
  timeoutMs?: number;
}

export interface OutboxWorkerOptions {
  db: Db;
  clock: Clock;
  log: Logger;
  /** the handler of each topic (any: each topic has its own kind of attempt) */
  topics: Record<string, TopicHandler<any>>;
  /** how often to look for due rows when nothing wakes the worker (real time; due times are the clock's) */
  pollMs?: number;
  /** how long one attempt may take, unless its topic says otherwise */
  timeoutMs?: number;
  /** the jitter's random source (tests pin it) */
  random?: () => number;
}

/** Retry delays: 1 s, 2 s, 4 s … capped at 5 minutes, ±20 % jitter so a receiver coming back is not stampeded. */
export function backoffMs(attempts: number, random = Math.random): number {
  const base = Math.min(300_000, 1000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

// the keys whose head (their lowest pending row) is due; the partial index outbox_pending serves it
export const DUE_SQL = `select topic, ordering_key from (
    select distinct on (topic, ordering_key) topic, ordering_key, next_attempt_at from outbox
     where state = 'pending' order by topic, ordering_key, id
  ) head where next_attempt_at <= ?`;

/**
 * Delivers the outbox after commit: per (topic, ordering_key) strictly in id order, the row behind
 * waiting until the one before it is delivered (a failing head blocks its key, never the others);
 * keys in parallel; at least once; each failure retried after backoffMs(attempts) on the injected
 * clock, without end. Woken after commits (`outbox:written` on the event bus) and by a poll timer.
 *
 * One worker per database: the store runs one server per DATA_DIR, so rows are not claimed
 * against other workers. A row is marked delivered only after its handler said so: a crash
 * between the two delivers it again (handlers are idempotent at the receiver: a webhook carries
 * its event id).
 *
 * Why not graphile-worker or pg-boss (both enqueue inside a knex transaction): both take due
 * times from the database's now(), so the injected clock cannot make a retry due in a test;
 * graphile-worker's named queue lets the jobs behind a failed one run while it waits out its
 * backoff, and gives up after 25 attempts (pg-boss 12's key_strict_fifo policy does block, but
 * retries up to a retryLimit and then holds the key as failed until someone intervenes); both
 * keep a schema of their own, migrated at start beside our numbered migrations, with
 * maintenance loops of their own. This file is what the store needs, on the migration list the
 * binary already carries.
 */
export class OutboxWorker {
  private timer?: NodeJS.Timeout;
  private inFlight = new Map<string, Promise<void>>();
  private stopped = false;
  private controllers = new Set<AbortController>();
  private looking?: Promise<void>;
  private lookAgain = false;
  private unhandled = new Set<string>();

  constructor(private readonly o: OutboxWorkerOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.o.pollMs ?? 500);
    this.timer.unref();
  }

  /** Look now (after a commit that wrote rows). */
  wake(): void {
    if (!this.stopped) void this.tick();
  }

  /**
   * Looks for keys with a due head and starts draining each. Wakes that come while a look is
   * under way are answered by one more look after it (a rush closes many sales at once).
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

  /** Resolves once no look and no delivery is under way (for shutdown, and for tests to wait on). */
  async idle(): Promise<void> {
    while (this.looking || this.inFlight.size) {
      await this.looking;
      await Promise.allSettled([...this.inFlight.values()]);
    }
  }

  /** Stops looking, aborts the attempts under way, and waits for them to be recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const c of this.controllers) c.abort();
    await this.idle();
  }

  private async look(): Promise<void> {
    if (this.stopped) return;
    let due: Array<{ topic: string; ordering_key: string }>;
    try {
      due = (await this.o.db.raw(DUE_SQL, [this.o.clock.now()])).rows;
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'outbox: cannot read the due rows');
      return;
    }
    for (const { topic, ordering_key: key } of due) {
      const id = `${topic}\u0000${key}`;
      if (this.inFlight.has(id) || this.stopped) continue;
      const p = this.drain(topic, key)
        .catch((err) => this.o.log.warn({ err: (err as Error).message, topic, key }, 'outbox: a key stopped draining; it is looked at again'))
        .finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, p);
    }
  }

  /** Delivers the key's rows in order while the head is due and delivered. */
  private async drain(topic: string, key: string): Promise<void> {
    const handler = this.o.topics[topic];
    if (!handler) {
      if (!this.unhandled.has(topic)) this.o.log.error({ topic }, 'outbox: rows of a topic nothing delivers; they wait');
      this.unhandled.add(topic);
      return;
    }
    while (!this.stopped) {
      const head: OutboxRow | undefined = await this.o.db('outbox').where({ topic, ordering_key: key, state: 'pending' }).orderBy('id').first();
      if (!head || head.next_attempt_at.getTime() > this.o.clock.now().getTime()) return;
      if (!(await this.attempt(handler, head))) return; // the rows behind it wait: order per key
    }
  }

  private async attempt(handler: TopicHandler, row: OutboxRow): Promise<boolean> {
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(() => controller.abort(), handler.timeoutMs ?? this.o.timeoutMs ?? 30_000);
    const started = Date.now(); // a duration for the log, not a rule: real time
    let result: Attempt;
    try {
      result = await handler.deliver(row, controller.signal);
    } catch (err) {
      result = { error: controller.signal.aborted ? 'timed out' : (err as Error).message || String(err) };
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
    const now = this.o.clock.now();
    const attempts = row.attempts + 1;
    try {
      await this.o.db.transaction(async (trx) => {
        await handler.record?.(trx, row, result, now, Date.now() - started);
        await trx('outbox').where({ id: row.id }).update(
          result.error === null
            ? { state: 'delivered', attempts, delivered_at: now, last_error: null }
            : { attempts, last_error: result.error, next_attempt_at: new Date(now.getTime() + backoffMs(attempts, this.o.random)) },
        );
      });
    } catch (err) {
      // not recorded: the row stays as it was and is tried again (at least once)
      this.o.log.warn({ err: (err as Error).message, id: row.id }, 'outbox: cannot record an attempt');
      return false;
    }
    if (result.error !== null) this.o.log.info({ id: row.id, topic: row.topic, key: row.ordering_key, error: result.error, attempts }, 'outbox: delivery failed; will retry');
    return result.error === null;
  }
}
