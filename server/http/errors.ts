import type { Context, Next } from 'koa';
import { AppError, isAppError, notFound } from '../errors';
import { isHtmx } from './render';
import type { Views } from './render';

/**
 * The one error middleware. An AppError is shown as it says: JSON as problem+json (RFC 9457),
 * htmx as the error partial, a page as the error page. Anything else is logged with its stack
 * and shown as a plain 500: never a stack trace to staff.
 */
export function errorHandler() {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw notFound();
    } catch (caught) {
      const err = toAppError(ctx, caught);
      ctx.status = err.status;
      // a rate limit (429) or a lockout (423) says when to come back
      const retryAfter = err.details?.retryAfter;
      if (typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter > 0) ctx.set('Retry-After', String(Math.ceil(retryAfter)));
      if (wantsJson(ctx)) {
        ctx.type = 'application/problem+json';
        const { fields, ...rest } = err.details ?? {};
        ctx.body = {
          type: `/problems/${err.id}`,
          title: err.message,
          status: err.status,
          ...rest,
          ...(fields ? { errors: fields } : {}),
        };
        return;
      }
      const views = ctx.state.views as Views;
      const data = { ...(ctx.state.view ?? {}), status: err.status, id: err.id, message: err.message, fields: err.details?.fields };
      ctx.type = 'html';
      if (isHtmx(ctx) && err.id === 'override-required') {
        // a PIN dialog that re-sends the same request with a manager's PIN
        ctx.set('HX-Retarget', '#modal');
        ctx.set('HX-Reswap', 'innerHTML');
        ctx.body = views.render('auth/_override.html', { ...data, details: err.details, target: ctx.get('HX-Target').split('#')[1] || 'order-panel' });
      } else if (isHtmx(ctx)) {
        // show the error in the page's message area whatever the request targeted
        ctx.set('HX-Retarget', '#flash');
        ctx.set('HX-Reswap', 'innerHTML');
        ctx.body = views.render('errors/_error.html', data);
      } else {
        ctx.body = views.render('errors/page.html', data);
      }
    }
  };
}

function toAppError(ctx: Context, caught: unknown): AppError {
  if (isAppError(caught)) return caught;
  const e = caught as { status?: number; expose?: boolean; message?: string; type?: string };
  // Koa and its middleware throw http-errors; a client error they mark exposable keeps its message
  if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
    return new AppError(e.status, e.status === 404 ? 'not-found' : 'bad-request', e.message ?? 'Bad request');
  }
  ctx.state.log?.error({ err: caught }, 'unexpected error');
  return new AppError(500, 'internal', 'Something went wrong on the store server. The problem has been logged.');
}

export function wantsJson(ctx: Context): boolean {
  if (ctx.path.startsWith('/api/')) return true;
  if (isHtmx(ctx)) return false;
  return ctx.accepts('html', 'json') === 'json' && !ctx.get('Accept').includes('text/html');
}
