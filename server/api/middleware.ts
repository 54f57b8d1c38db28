import crypto from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import type { Clock } from '../clock';
import type { Db, Trx } from '../db/knex';
import { AppError, forbidden, tooManyRequests, unauthenticated, unprocessable } from '../errors';
import type { RateLimiter } from '../auth/rate-limit';
import { canonicalJson } from '../journal/hash';
import { tokenFor, type ApiScope, type ApiToken } from './tokens';

declare module 'koa' {
  interface DefaultState {
    api?: { token: ApiToken };
  }
}

/** Bearer token authentication for /api/v1: no cookies, no CSRF. Rate-limited per token. */
export function bearer(deps: { db: Db; clock: Clock; limiter: RateLimiter }): Middleware {
  return async (ctx, next) => {
    const m = /^Bearer (\S+)$/.exec(ctx.get('Authorization'));
    if (!m) throw unauthenticated('Send an API token: Authorization: Bearer <token>.');
    const token = await tokenFor(deps.db, m[1]);
    if (!token) throw unauthenticated('That API token is not valid.');
    if (token.revoked_at) throw new AppError(401, 'token-revoked', 'That API token was revoked.');
    const limitKey = `api:${token.id}`;
    if (!deps.limiter.take(limitKey)) throw tooManyRequests(deps.limiter.retryAfterSeconds(limitKey), 'Too many requests for this token. Slow down and retry.');
    ctx.state.api = { token };
    if (!token.last_used_at || deps.clock.now().getTime() - token.last_used_at.getTime() > 60_000) {
      await deps.db('api_tokens').where({ id: token.id }).update({ last_used_at: deps.clock.now() });
    }
    return next();
  };
}

export type ScopeGuard = Middleware & { scope: ApiScope | 'public' };

/** What an API route needs; the tests enumerate these like the browser routes' permissions. */
export function scope(s: ApiScope | 'public'): ScopeGuard {
  const guard = (async (ctx: Context, next: Next) => {
    if (s !== 'public' && !ctx.state.api!.token.scopes.includes(s)) throw forbidden(`This token lacks the ${s} scope.`);
    return next();
  }) as ScopeGuard;
  guard.scope = s;
  return guard;
}

/** How long an API idempotency key is kept: a retry within it gets the first answer; after it, the key is new. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;

/** Forgets the keys older than IDEMPOTENCY_TTL_MS (run on a schedule; an expired key is also forgotten when it is used). */
export async function pruneIdempotencyKeys(db: Db, clock: Clock): Promise<number> {
  return db('api_idempotency').where('created_at', '<', new Date(clock.now().getTime() - IDEMPOTENCY_TTL_MS)).delete();
}

/** What an API write answers: its status and JSON body, stored with the key. */
export interface ApiAnswer {
  status: number;
  body: unknown;
}

/**
 * Idempotency for API writes, inside the transaction of the effect it guards: the key's row is
 * inserted first (a concurrent request with the same key waits on it there, as PostgreSQL makes
 * an insert wait for an uncommitted row of the same key), the effect runs in the same
 * transaction (`effect` gets it, and runs its services in it), and the answer is stored on the
 * row before COMMIT. So a crash leaves both the effect and its answer, or neither: a retry
 * either replays the stored answer (Idempotent-Replayed: true) or runs now. The same key with
 * another request → 422 idempotency-mismatch. Keys expire after IDEMPOTENCY_TTL_MS (24 h).
 * `afterCommit` collects what is told to others (events): it runs only once the transaction
 * committed. A request whose key is missing or malformed runs without (the schema reports it).
 */
export async function idempotently(
  deps: { db: Db; clock: Clock },
  ctx: Context,
  effect: (trx: Trx, afterCommit: (f: () => void) => void) => Promise<ApiAnswer>,
): Promise<void> {
  const body = ctx.request.body as Record<string, unknown> | undefined;
  const key = body?.idempotencyKey;
  const tokenId = ctx.state.api!.token.id;
  const hash = crypto.createHash('sha256').update(`${ctx.method} ${ctx.path} ${canonicalJson(body ?? null)}`).digest('hex');
  const told: Array<() => void> = [];
  const answer = await deps.db.transaction(async (trx): Promise<ApiAnswer & { replayed?: boolean }> => {
    if (typeof key !== 'string' || !/^[A-Za-z0-9_-]{8,100}$/.test(key)) return effect(trx, (f) => told.push(f));
    const now = deps.clock.now();
    const row = { token_id: tokenId, key };
    await trx('api_idempotency').where(row).where('created_at', '<', new Date(now.getTime() - IDEMPOTENCY_TTL_MS)).delete();
    const inserted = await trx('api_idempotency').insert({ ...row, request_hash: hash, created_at: now }).onConflict(['token_id', 'key']).ignore().returning('key');
    if (!inserted.length) {
      const first = await trx('api_idempotency').where(row).forUpdate().first();
      if (first.request_hash !== hash) throw unprocessable('This idempotencyKey was used with a different request.', 'idempotency-mismatch');
      // (status null: a row left "in progress" by a server before this one: nothing was answered under it)
      if (first.status !== null) return { status: first.status, body: first.response, replayed: true };
      await trx('api_idempotency').where(row).update({ created_at: now });
    }
    const done = await effect(trx, (f) => told.push(f));
    await trx('api_idempotency').where(row).update({ status: done.status, response: JSON.stringify(done.body ?? null) });
    return done;
  });
  for (const f of told) f();
  ctx.status = answer.status;
  ctx.body = answer.body;
  if (answer.replayed) ctx.set('Idempotent-Replayed', 'true');
}
