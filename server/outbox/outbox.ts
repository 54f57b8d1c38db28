import type { Clock } from '../clock';
import type { Db, Trx } from '../db/knex';

/**
 * The durable outbox: work that must happen after a commit and outside every transaction
 * (a webhook POST; later a print job), written as rows IN the business transaction, so the work
 * exists if and only if the change it follows was committed. The worker (./worker.ts) delivers
 * the rows after commit: at least once, with retries and backoff, and one at a time in id order
 * per (topic, ordering_key). The table is migration 0017's `outbox`.
 */
export interface OutboxRow {
  id: number;
  /** which handler delivers it ('webhook', …) */
  topic: string;
  /** rows of one (topic, key) are delivered strictly in id order: a failing one holds back those behind it */
  ordering_key: string;
  payload: Record<string, unknown>;
  state: 'pending' | 'delivered';
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

export interface NewOutboxRow {
  topic: string;
  key: string;
  payload: Record<string, unknown>;
}

/**
 * Writes rows to the outbox inside the caller's transaction, due at once; returns their ids in
 * the order given. After the caller commits, it publishes `outbox:written` for each topic, which
 * wakes the worker (the poll timer finds them too, later).
 *
 * Each (topic, key) written is locked until the transaction ends (an advisory lock, taken in a
 * fixed order), so two transactions writing to one key commit their rows in id order: the worker
 * never sees a later row of a key committed while an earlier one is still in flight, and never
 * delivers it first. A transaction waits here only for another that wrote to the same key.
 */
export async function enqueue(trx: Trx, clock: Clock, rows: readonly NewOutboxRow[]): Promise<number[]> {
  if (!rows.length) return [];
  await lockKeys(trx, rows);
  const now = clock.now();
  const made: Array<{ id: number }> = await trx('outbox')
    .insert(rows.map((r) => ({ topic: r.topic, ordering_key: r.key, payload: JSON.stringify(r.payload), next_attempt_at: now, created_at: now })))
    .returning('id');
  return made.map((m) => m.id);
}

/**
 * Takes enqueue's lock on each (topic, key) until the transaction ends (a transaction that holds
 * it already does not wait). For a caller that numbers what it enqueues (a webhook event's
 * sequence): lock first, then take the number, so numbers follow the order of delivery in a key.
 */
export async function lockKeys(trx: Trx, rows: ReadonlyArray<{ topic: string; key: string }>): Promise<void> {
  if (!trx.isTransaction) throw new Error('outbox rows are written inside the business transaction');
  const keys = [...new Set(rows.map((r) => `outbox:${r.topic}:${r.key}`))].sort();
  for (const k of keys) await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [k]);
}

/** Drops the pending rows of a key (what they were for is gone: a deleted webhook subscription). */
export async function discardPending(trx: Trx, topic: string, key: string): Promise<number> {
  return trx('outbox').where({ topic, ordering_key: key, state: 'pending' }).delete();
}

/** How long a delivered row is kept (with what hangs on it: a webhook's delivery and attempt log). */
export const DELIVERED_RETENTION_MS = 30 * 24 * 3600_000;

/**
 * Deletes the rows delivered more than DELIVERED_RETENTION_MS ago, and, by cascade, what each
 * topic keeps about them (webhook_deliveries and their webhook_attempts). Pending rows are never
 * pruned, however old: they are work not yet done.
 */
export async function pruneDelivered(db: Db, clock: Clock): Promise<number> {
  const cutoff = new Date(clock.now().getTime() - DELIVERED_RETENTION_MS);
  return db('outbox').where({ state: 'delivered' }).where('delivered_at', '<', cutoff).delete();
}
