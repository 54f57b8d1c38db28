import dns from 'node:dns';
import type { Db, Trx } from '../db/knex';
import type { OutboxRow } from '../outbox/outbox';
import type { Attempt, TopicHandler } from '../outbox/worker';
import { getSettings } from '../settings/service';
import { signBody } from './service';
import { postTo } from './send';
import { resolveTarget, type Lookup } from './target';
import { untilAborted } from '../abort';

export interface WebhookTopicOptions {
  db: Db;
  /** resolves a target's name to all its addresses before each delivery (tests answer without DNS) */
  lookup?: Lookup;
  /** how long one delivery may take before it counts as failed (default 5 s) */
  timeoutMs?: number;
}

/** One attempt as the delivery log keeps it: the HTTP status when an answer came. */
export interface WebhookAttempt extends Attempt {
  status: number | null;
}

const dnsLookup: Lookup = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/**
 * Delivers webhooks as the outbox's 'webhook' topic (server/outbox/worker.ts does the order per
 * subscription, the retries and the backoff): HMAC-signed, each attempt logged in
 * webhook_attempts with the delivery's last status. Each attempt resolves the target and connects
 * only to an address that passed ./target.ts, unless the lab setting allows private ones (a
 * refusal is a failed attempt whose error says why); redirects are failures, never followed.
 */
export function webhookTopic(o: WebhookTopicOptions): TopicHandler<WebhookAttempt> {
  return {
    timeoutMs: o.timeoutMs ?? 5000,

    async deliver(row: OutboxRow, signal: AbortSignal): Promise<WebhookAttempt> {
      const d = await o.db('webhook_deliveries as d')
        .join('webhook_events as e', 'e.seq', 'd.event_seq')
        .join('webhook_subscriptions as s', 's.id', 'd.subscription_id')
        .where('d.outbox_id', row.id)
        .first('e.id as event_id', 'e.seq', 'e.type', 'e.data', 'e.created_at', 's.url', 's.secret', 's.active');
      if (!d) return { status: null, error: 'the subscription was deleted' };
      if (!d.active) return { status: null, error: 'the subscription is paused' };
      const body = JSON.stringify({ id: d.event_id, type: d.type, sequence: d.seq, createdAt: d.created_at.toISOString(), data: d.data });
      let status: number | null = null;
      try {
        const url = new URL(d.url);
        const { webhooksAllowPrivateTargets } = await getSettings(o.db);
        const to = await untilAborted(resolveTarget(url.hostname, o.lookup ?? dnsLookup, webhooksAllowPrivateTargets), signal);
        status = await postTo(url, to, {
          'Content-Type': 'application/json',
          'User-Agent': 'store-server-webhooks',
          'X-Webhook-Id': d.event_id,
          'X-Webhook-Event': d.type,
          'X-Webhook-Sequence': String(d.seq),
          'X-Webhook-Signature': signBody(d.secret, body),
        }, body, signal);
      } catch (err) {
        return { status: null, error: signal.aborted ? 'timed out' : (err as Error).message };
      }
      if (status >= 300 && status < 400) return { status, error: `HTTP ${status}: redirects are not followed` };
      if (status < 200 || status >= 300) return { status, error: `HTTP ${status}` };
      return { status, error: null };
    },

    async record(trx: Trx, row: OutboxRow, attempt: Partial<WebhookAttempt> & Attempt, at: Date, durationMs: number): Promise<void> {
      const delivery = await trx('webhook_deliveries').where({ outbox_id: row.id }).first('id');
      if (!delivery) return; // deleted with its subscription meanwhile
      const status = attempt.status ?? null;
      await trx('webhook_attempts').insert({ delivery_id: delivery.id, at, status, error: attempt.error, duration_ms: durationMs });
      await trx('webhook_deliveries').where({ id: delivery.id }).update({ last_status: status });
    },
  };
}
