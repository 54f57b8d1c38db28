import crypto from 'node:crypto';
import type { Clock } from '../clock';
import type { Db, DbOrTrx, Trx } from '../db/knex';
import { invalid, notFound } from '../errors';
import { discardPending, DELIVERED_RETENTION_MS, enqueue, lockKeys } from '../outbox/outbox';
import { getSettings } from '../settings/service';
import { LAB_SETTING_LABEL, refusedHost } from './target';

export const WEBHOOK_EVENTS = ['order.paid', 'order.voided', 'refund.created', 'ticket.ready'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** The outbox topic of webhook deliveries (delivered by ./worker.ts): one row per (event, subscription), keyed by subscription. */
export const WEBHOOK_TOPIC = 'webhook';
export const webhookKey = (subscriptionId: number) => `subscription:${subscriptionId}`;

/**
 * Writes an event inside the business transaction, with one delivery per active subscription
 * that asked for this type, each an outbox row of the 'webhook' topic keyed by its subscription
 * (so a subscription gets its events in order). Nothing is sent here: the outbox worker delivers
 * after commit, so a dead endpoint can never slow or break a sale. The caller publishes
 * `outbox:written` after its commit.
 */
export async function emitEvent(trx: Trx, clock: Clock, type: WebhookEventType, data: Record<string, unknown>): Promise<void> {
  const subscribers: Array<{ id: number }> = await trx('webhook_subscriptions').where({ active: true }).whereRaw('? = any(events)', [type]).orderBy('id').select('id');
  const keys = subscribers.map((s) => ({ topic: WEBHOOK_TOPIC, key: webhookKey(s.id) }));
  // the subscriptions' keys before the event's sequence number: a subscription gets its events in sequence order
  await lockKeys(trx, keys);
  const [event] = await trx('webhook_events').insert({ id: crypto.randomUUID(), type, data: JSON.stringify(data), created_at: clock.now() }).returning('seq');
  if (!subscribers.length) return;
  const rows = await enqueue(trx, clock, keys.map((k, i) => ({ ...k, payload: { subscriptionId: subscribers[i].id, eventSeq: event.seq } })));
  await trx('webhook_deliveries').insert(subscribers.map((s, i) => ({ subscription_id: s.id, event_seq: event.seq, outbox_id: rows[i] })));
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
    const rule = `webhooks may only go to public addresses unless the lab setting "${LAB_SETTING_LABEL}" is on.`;
    throw invalid(`The webhook URL's host ${why}; ${rule}`, [{ field: 'url', message: `The host ${why}; ${rule}` }]);
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

/** Stops a subscription: no new deliveries; pending ones are dropped with it (their outbox rows too). */
export async function deleteSubscription(db: Db, id: number): Promise<void> {
  await db.transaction(async (trx) => {
    const n = await trx('webhook_subscriptions').where({ id }).delete();
    if (!n) throw notFound('That webhook subscription');
    await discardPending(trx, WEBHOOK_TOPIC, webhookKey(id));
  });
}

export async function listDeliveries(db: DbOrTrx, subscriptionId: number, limit = 100) {
  await getSubscription(db, subscriptionId);
  // the delivery's state is its outbox row's
  return db('webhook_deliveries as d')
    .join('webhook_events as e', 'e.seq', 'd.event_seq')
    .join('outbox as o', 'o.id', 'd.outbox_id')
    .where('d.subscription_id', subscriptionId)
    .orderBy('d.event_seq', 'desc')
    .limit(limit)
    .select('d.id', 'e.id as event_id', 'e.type', 'e.seq', 'o.state', 'o.attempts', 'o.next_attempt_at', 'o.delivered_at', 'd.last_status', 'o.last_error');
}

/*
 * Webhook history is kept DELIVERED_RETENTION_MS (30 days). Delivered deliveries, with their
 * attempts, go with their outbox rows (pruneDelivered, by cascade); pending ones, and their
 * events, stay until delivered.
 */

/** Forgets the delivery attempts logged more than 30 days ago (also those of a delivery still pending). */
export function pruneWebhookAttempts(db: Db, clock: Clock): Promise<number> {
  return db('webhook_attempts').where('at', '<', new Date(clock.now().getTime() - DELIVERED_RETENTION_MS)).delete();
}

/** Forgets the events made more than 30 days ago that no delivery refers to any more (run after pruneDelivered). */
export function pruneWebhookEvents(db: Db, clock: Clock): Promise<number> {
  return db('webhook_events as e')
    .where('e.created_at', '<', new Date(clock.now().getTime() - DELIVERED_RETENTION_MS))
    .whereNotExists((q) => q.select(1).from('webhook_deliveries as d').whereRaw('d.event_seq = e.seq'))
    .delete();
}

export const signBody = (secret: string, body: string) => 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex');
