import crypto from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import { AppError, conflict, forbidden, tooManyRequests, unauthenticated, unprocessable } from '../errors';
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

/**
 * Idempotency for API writes: the same idempotencyKey with the same body returns the first
 * answer again; with another body, 422 idempotency-mismatch. A request still running under the
 * key makes a concurrent duplicate wait for its answer instead of running twice.
 */
export function idempotent(deps: { db: Db; clock: Clock }): Middleware {
  return async (ctx, next) => {
    const body = ctx.request.body as Record<string, unknown> | undefined;
    const key = body?.idempotencyKey;
    if (typeof key !== 'string' || !/^[A-Za-z0-9_-]{8,100}$/.test(key)) return next(); // the schema reports it
    const tokenId = ctx.state.api!.token.id;
    const hash = crypto.createHash('sha256').update(`${ctx.method} ${ctx.path} ${canonicalJson(body)}`).digest('hex');
    const inserted = await deps.db('api_idempotency')
      .insert({ token_id: tokenId, key, request_hash: hash, created_at: deps.clock.now() })
      .onConflict(['token_id', 'key'])
      .ignore()
      .returning('key');
    if (!inserted.length) {
      for (let waited = 0; ; waited += 50) {
        const row = await deps.db('api_idempotency').where({ token_id: tokenId, key }).first();
        if (!row) return next(); // the first attempt failed and let go of the key
        if (row.request_hash !== hash) {
          throw unprocessable('This idempotencyKey was used with a different request.', 'idempotency-mismatch');
        }
        if (row.status !== null) {
          ctx.status = row.status;
          ctx.body = row.response;
          ctx.set('Idempotent-Replayed', 'true');
          return;
        }
        if (waited > 15_000) throw conflict('A request with this idempotencyKey is still running.', 'idempotency-in-progress');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    try {
      await next();
    } catch (err) {
      await deps.db('api_idempotency').where({ token_id: tokenId, key, status: null }).delete();
      throw err;
    }
    await deps.db('api_idempotency').where({ token_id: tokenId, key }).update({ status: ctx.status, response: JSON.stringify(ctx.body ?? null) });
  };
}
