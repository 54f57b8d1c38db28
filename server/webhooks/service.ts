import crypto from 'node:crypto';
import type { Clock } from '../clock';
import type { DbOrTrx } from '../db/knex';
import { invalid, notFound } from '../errors';
import { getSettings } from '../settings/service';
import { LAB_SETTING_LABEL, refusedHost } from './target';

export const WEBHOOK_EVENTS = ['order.paid', 'order.voided', 'refund.created', 'ticket.ready'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/**
 * Writes an event to the outbox inside the business transaction, with one pending delivery per
 * active subscription that asked for this type. Nothing is sent here: the worker delivers after
 * commit, so a dead endpoint can never slow or break a sale.
 */
export async function emitEvent(trx: DbOrTrx, clock: Clock, type: WebhookEventType, data: Record<string, unknown>): Promise<void> {
  const now = clock.now();
  const [event] = await trx('webhook_events').insert({ id: crypto.randomUUID(), type, data: JSON.stringify(data), created_at: now }).returning('seq');
  const subscribers: Array<{ id: number }> = await trx('webhook_subscriptions').where({ active: true }).whereRaw('? = any(events)', [type]).orderBy('id').select('id');
  if (subscribers.length) {
    await trx('webhook_deliveries').insert(subscribers.map((s) => ({ subscription_id: s.id, event_seq: event.seq, next_attempt_at: now })));
  }
}

export interface Subscription {
  id: number;
  url: string;
  events: string[];
  active: boolean;
  created_at: Date;
}

/**
 * The URL as stored, or a 400 saying what is wrong with it. A host that is a literal private,
 * loopback, link-local … address or a localhost name is refused unless `allowPrivate` (the lab
 * setting); a name is not resolved here, it is checked at every delivery (./target.ts).
 */
export function validateWebhookUrl(url: string, allowPrivate: boolean): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid('The webhook URL is not a URL.', [{ field: 'url', message: 'not a URL' }]);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw invalid('The webhook URL must be http or https.', [{ field: 'url', message: 'must be http(s)' }]);
  if (u.username || u.password) throw invalid('Put no credentials in the webhook URL; the signature authenticates us.', [{ field: 'url', message: 'no credentials' }]);
  const why = allowPrivate ? null : refusedHost(u.hostname);
  if (why) {
    throw invalid(
      `The webhook URL's host ${why}; webhooks may only go to public addresses unless the lab setting "${LAB_SETTING_LABEL}" is on.`,
      [{ field: 'url', message: `${why}: not a public address` }],
    );
  }
  return u.toString();
}

export async function createSubscription(db: DbOrTrx, clock: Clock, input: { url: string; events: string[]; secret?: string }) {
  const secret = input.secret ?? crypto.randomBytes(24).toString('base64url');
  const url = validateWebhookUrl(input.url, (await getSettings(db)).webhooksAllowPrivateTargets);
  const [row] = await db('webhook_subscriptions')
    .insert({ url, events: input.events, secret, created_at: clock.now() })
    .returning(['id', 'url', 'events', 'active', 'created_at']);
  return { ...(row as Subscription), secret };
}

export const listSubscriptions = (db: DbOrTrx): Promise<Subscription[]> =>
  db('webhook_subscriptions').orderBy('id').select('id', 'url', 'events', 'active', 'created_at');

export async function getSubscription(db: DbOrTrx, id: number): Promise<Subscription> {
  const row = await db('webhook_subscriptions').where({ id }).first('id', 'url', 'events', 'active', 'created_at');
  if (!row) throw notFound('That webhook subscription');
  return row;
}

/** Stops a subscription: no new deliveries; pending ones are dropped with it. */
export async function deleteSubscription(db: DbOrTrx, id: number): Promise<void> {
  const n = await db('webhook_subscriptions').where({ id }).delete();
  if (!n) throw notFound('That webhook subscription');
}

export async function listDeliveries(db: DbOrTrx, subscriptionId: number, limit = 100) {
  await getSubscription(db, subscriptionId);
  return db('webhook_deliveries as d')
    .join('webhook_events as e', 'e.seq', 'd.event_seq')
    .where('d.subscription_id', subscriptionId)
    .orderBy('d.event_seq', 'desc')
    .limit(limit)
    .select('d.id', 'e.id as event_id', 'e.type', 'e.seq', 'd.state', 'd.attempts', 'd.next_attempt_at', 'd.delivered_at', 'd.last_status', 'd.last_error');
}

export const signBody = (secret: string, body: string) => 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex');
