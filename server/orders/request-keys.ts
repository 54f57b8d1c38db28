import type { Clock } from '../clock';
import type { Db, Trx } from '../db/knex';
import { unprocessable } from '../errors';

/**
 * Idempotency keys of terminal taps that add to an order (migration 0018): "add line", and the
 * first tap that opens a sale with its line. A terminal that lost its link sends such a tap again
 * with the same key once the server answers (static/js/ui.js); the key makes that retry a no-op
 * answered with the order as it is. Payments, refunds and voids keep their keys on their own rows.
 */

/** Kept this long after first use; a terminal retries within seconds or minutes. */
export const REQUEST_KEY_TTL_MS = 24 * 3600_000;

/**
 * Takes `key` for a change of `orderId`, inside the change's transaction (which holds the order's
 * lock, so a retry racing the first request waits for it). Returns false when the key was already
 * used for this order: the change was made, do nothing. A key used for another order is refused.
 */
export async function claimRequestKey(trx: Trx, clock: Clock, key: string, orderId: number): Promise<boolean> {
  const used = await orderOfRequestKey(trx, key);
  if (used !== null) {
    if (used !== orderId) throw unprocessable('This request key was already used for another order.', 'idempotency-mismatch');
    return false;
  }
  await trx('request_keys').insert({ key, order_id: orderId, created_at: clock.now() });
  return true;
}

/**
 * The order a key was used on, or null. Inside a transaction it first takes a lock on the key
 * until that transaction ends, so two requests with one key (a retry racing the first) are
 * answered one after the other: the second sees what the first committed.
 */
export async function orderOfRequestKey(trx: Trx, key: string): Promise<number | null> {
  await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`request-key:${key}`]);
  const row = await trx('request_keys').where({ key }).first('order_id');
  return row ? Number(row.order_id) : null;
}

/** Removes keys older than REQUEST_KEY_TTL_MS (server/retention.ts). */
export function pruneRequestKeys(db: Db, clock: Clock): Promise<number> {
  return db('request_keys').where('created_at', '<', new Date(clock.now().getTime() - REQUEST_KEY_TTL_MS)).delete();
}
