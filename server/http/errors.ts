import type { Context, Next } from 'koa';
import { AppError, isAppError, notFound } from '../errors';
import { formFields } from '../auth/middleware';
import { isHtmx, renderFormError, type FormView } from './render';
import type { Views } from './render';

/** Refusals a form shows beside its fields or at its top, with what was typed kept (docs/UI.md). */
const FORM_REFUSALS = new Set([400, 409, 422]);
/** Refusals of a manager's PIN: the approval asks again, with the reason. */
const APPROVAL_REFUSALS = new Set(['override-refused', 'locked', 'rate-limited']);

/**
 * The one error middleware. An AppError is shown as it says: JSON as problem+json (RFC 9457),
 * htmx as the error partial, a page as the error page. Two refusals are answered with a way on
 * (docs/UI.md): one that needs a manager's approval opens the approval dialog (htmx) or page,
 * and one of a form with a FormView re-renders that form with what was typed. Anything else is
 * logged with its stack and shown as a plain 500: never a stack trace to staff.
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
      const wait = typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter > 0 ? Math.ceil(retryAfter) : undefined;
      if (wait) ctx.set('Retry-After', String(wait));
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
      const formView = ctx.state.formView as FormView | undefined;
      if (formView && FORM_REFUSALS.has(err.status) && err.id !== 'malformed-request') {
        await renderFormError(ctx, formView, err);
        return;
      }
      const views = ctx.state.views as Views;
      // a wait ticks down on the page (ui.js): the message's "Try again in N seconds." becomes its own element
      const [, lead, retryText] = (wait && /^(.*?)\s*(Try again in \d+ seconds?\.?)$/.exec(err.message)) || [undefined, err.message, wait ? `Try again in ${wait} seconds.` : undefined];
      const data = {
        ...(ctx.state.view ?? {}), status: err.status, id: err.id, message: err.message, fields: err.details?.fields,
        lead, retryText, retryAfter: wait, triesLeft: err.details?.triesLeft,
      };
      ctx.type = 'html';
      const body = (ctx.request.body ?? {}) as Record<string, unknown>;
      // the request again, for the approval's PIN: method, URL and fields
      const again = () => ({ permission: err.details?.permission, action: ctx.originalUrl, resend: formFields(body), again: ctx.method });
      if (isHtmx(ctx) && err.id === 'override-required') {
        // the approval dialog, over whatever dialog is open; ui.js sends it to the refused request's target
        ctx.set('HX-Retarget', '#modal');
        ctx.set('HX-Reswap', 'beforeend');
        ctx.body = views.render('auth/_override.html', { ...data, ...again() });
      } else if (!isHtmx(ctx) && (err.id === 'override-required' || (APPROVAL_REFUSALS.has(err.id) && typeof body.override_pin === 'string'))) {
        // a page (or a plain form) that needs approval: a page that sends the same request again with the PIN
        ctx.body = views.render('auth/approval.html', { ...data, ...again(), refused: err.id !== 'override-required' });
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
