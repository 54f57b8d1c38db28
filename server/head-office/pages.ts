import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import { bodyParser } from '../http/body';
import { isHtmx, type Views } from '../http/render';
import { logIn, SESSION_MS, sessionOperator, storeStatuses, type StoreStatus } from './registry';

/**
 * The status page (issue 26): every store with its acknowledged seq, last batch, backlog age and
 * chain status, behind its own login (operators set with `ledger set-password`). The session is a
 * signed cookie (./secrets.ts): any instance reads it, none remembers it.
 */
export interface PagesDeps {
  db: Db;
  clock: Clock;
  secretKey: string;
  views: Views;
}

const COOKIE = 'ho_session';

/** How long ago, in words: "just now", "4 min", "3 h 5 min", "2 days". */
export function ago(ms: number): string {
  const min = Math.floor(ms / 60_000);
  if (min < 1) return 'under a minute';
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  return `${Math.floor(h / 24)} days`;
}

function rows(list: StoreStatus[], now: Date) {
  return list.map((s) => ({
    ...s,
    lastBatch: s.lastBatchAt ? { iso: s.lastBatchAt.toISOString(), ago: ago(now.getTime() - s.lastBatchAt.getTime()) } : null,
    backlogAge: s.backlogAgeMs === null ? null : ago(s.backlogAgeMs),
    lastRefusalAt: s.lastRefusal?.at?.toISOString() ?? null,
  }));
}

/** A POST from another site carries another Origin: refused (the session cookie is SameSite=Strict too). */
function sameOrigin(ctx: Context): boolean {
  const origin = ctx.get('Origin');
  if (!origin) return true;
  try {
    return new URL(origin).host === ctx.host;
  } catch {
    return false;
  }
}

export function statusPages(deps: PagesDeps): Router {
  const router = new Router();
  const page = (ctx: Context, template: string, data: object, status = 200) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = deps.views.render(template, data);
  };
  const cookieOpts = (ctx: Context) => ({ httpOnly: true, sameSite: 'strict' as const, secure: ctx.secure, path: '/', overwrite: true });

  const signedIn = async (ctx: Context, next: Next) => {
    const name = await sessionOperator(deps.db, deps.clock, deps.secretKey, ctx.cookies.get(COOKIE));
    if (!name) {
      if (isHtmx(ctx)) {
        ctx.set('HX-Redirect', '/login');
        ctx.status = 204;
      } else ctx.redirect('/login');
      return;
    }
    ctx.state.operator = name;
    await next();
  };

  const status = async (ctx: Context) => {
    const now = deps.clock.now();
    const stores = rows(await storeStatuses(deps.db, deps.clock), now);
    const data = { operator: ctx.state.operator as string, stores, forks: stores.filter((s) => !s.chain.verified).length, checkedAt: now.toISOString() };
    page(ctx, isHtmx(ctx) ? 'head-office/_stores.html' : 'head-office/status.html', data);
  };
  router.get('/', signedIn, status);
  router.get('/stores', signedIn, status);

  router.get('/login', async (ctx) => page(ctx, 'head-office/login.html', {}));
  router.post('/login', bodyParser({ limit: 8 * 1024 }), async (ctx) => {
    if (!sameOrigin(ctx)) return page(ctx, 'head-office/login.html', { formError: 'This sign-in came from another site.' }, 403);
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const errors: Record<string, string> = {};
    if (!name) errors.name = 'Enter your operator name.';
    if (!password) errors.password = 'Enter your password.';
    if (Object.keys(errors).length) return page(ctx, 'head-office/login.html', { form: { name }, errors }, 400);
    const session = await logIn(deps.db, deps.clock, deps.secretKey, name, password);
    if (!session) return page(ctx, 'head-office/login.html', { form: { name }, formError: 'That name and password do not match. Try again, or set a new password with `ledger set-password`.' }, 401);
    ctx.cookies.set(COOKIE, session, { ...cookieOpts(ctx), maxAge: SESSION_MS });
    ctx.status = 303;
    ctx.redirect('/');
  });
  router.post('/logout', async (ctx) => {
    if (!sameOrigin(ctx)) return page(ctx, 'head-office/login.html', { formError: 'This request came from another site.' }, 403);
    ctx.cookies.set(COOKIE, null, cookieOpts(ctx));
    ctx.status = 303;
    ctx.redirect('/login');
  });
  return router;
}
