import nunjucks from 'nunjucks';
import type { Context, Next } from 'koa';
import { AssetLoader, packaged, viewsDir } from '../paths';
import { currencyExponent, formatMoney } from '../money';
import { merged } from '../merge';
import type { AppError } from '../errors';
import { roleCan, type Permission, type Role } from '../auth/permissions';

export type Views = nunjucks.Environment;

/** One template environment; autoescape is on, so every {{ value }} is HTML-escaped. */
export function createViews(dir = viewsDir): Views {
  const loader = packaged ? new AssetLoader(dir) : new nunjucks.FileSystemLoader(dir, { noCache: false }); // the binary's assets, or the disk
  const env = new nunjucks.Environment(loader, {
    autoescape: true,
    throwOnUndefined: false,
    trimBlocks: true,
    lstripBlocks: true,
  });
  env.addFilter('orderType', (t: string) => ({ counter: 'Counter', takeaway: 'Take-away', dine_in: 'Dine-in' })[t] ?? t);
  env.addFilter('decimal', (amount: number, currency: string) => toDecimal(Number(amount), currency));
  env.addFilter('money', (amount: number, currency: string) => formatMoney(Number(amount), currency));
  // what a staff member may do, for links and buttons (the routes check again)
  env.addGlobal('can', (role: Role | undefined, permission: Permission) => !!role && roleCan(role, permission));
  return env;
}

export const isHtmx = (ctx: Context) => ctx.get('HX-Request') === 'true';

/**
 * Renders `partial` for an htmx request (the element its target replaces) and the full `page`
 * otherwise, with whatever the request state puts in `ctx.state.view`.
 */
export function render(ctx: Context, page: string, partial: string | null, data: object = {}): void {
  const views = ctx.state.views as Views;
  const template = partial && isHtmx(ctx) ? partial : page;
  if (template === page) takeToast(ctx);
  ctx.type = 'html';
  ctx.body = views.render(template, merged(ctx.state.view ?? {}, data));
}

const TOAST_COOKIE = 'toast';
const toastCookie = (ctx: Context, maxAge?: number) =>
  ({ httpOnly: true, sameSite: 'strict' as const, signed: true, secure: ctx.secure, overwrite: true, path: '/', ...(maxAge ? { maxAge } : {}) });

/**
 * A success message (docs/UI.md, "Toasts"): on the page this answer renders, or, for an htmx
 * answer, through HX-Trigger to ui.js. Before `redirectAfterPost`, it is shown by the page the
 * redirect leads to.
 */
export function toast(ctx: Context, message: string): void {
  ctx.state.view.toast = message;
  // header values are ASCII: escape the rest as JSON does
  if (isHtmx(ctx)) ctx.set('HX-Trigger', JSON.stringify({ toast: { target: 'body', message } }).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** A toast left by the request that redirected here: shown once, then gone. */
function takeToast(ctx: Context): void {
  const left = ctx.cookies.get(TOAST_COOKIE, { signed: true });
  if (!left) return;
  ctx.cookies.set(TOAST_COOKIE, null, toastCookie(ctx));
  try {
    ctx.state.view.toast ??= decodeURIComponent(left);
  } catch {
    // not ours to show
  }
}

/**
 * Where a form lives, so a refusal re-renders it with what was typed (docs/UI.md, "Form
 * errors"): the page, and for htmx the partial whose root element is `target`. `data` gives the
 * rest of the page; `formId` says which form of a page with several (one per row) was sent;
 * `messages` rewords a field's error in the staff's words.
 */
export interface FormView {
  page: string;
  partial?: string;
  target?: (ctx: Context) => string;
  formId?: (ctx: Context) => string;
  data: (ctx: Context) => Promise<object>;
  messages?: Record<string, string>;
}

/** Route middleware: the form this route handles, for the error middleware. */
export function formView(view: FormView) {
  return async (ctx: Context, next: Next) => {
    ctx.state.formView = view;
    await next();
  };
}

/** Fields never sent back into a page: the token, and secrets. */
const NOT_ECHOED = new Set(['_csrf', '_approve', 'override_pin', 'pin', 'pin_confirm']);

/**
 * The form's page (or partial) again, with `form` = what was sent, `errors` = one message per
 * field beside it, and `formError` for a refusal that names no field. The status stays the error's.
 */
export async function renderFormError(ctx: Context, view: FormView, err: AppError): Promise<void> {
  const body = (ctx.request.body ?? {}) as Record<string, unknown>;
  const form: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!NOT_ECHOED.has(k)) form[k] = v;
  const errors: Record<string, string> = {};
  for (const f of err.details?.fields ?? []) {
    const name = f.field.split('.')[0];
    const message = view.messages?.[name] ?? f.message;
    if (errors[name] === undefined) errors[name] = message;
    else if (!errors[name].includes(message)) errors[name] += ` ${message}`;
  }
  const data = merged(await view.data(ctx), {
    form, errors, formId: view.formId?.(ctx), formError: Object.keys(errors).length ? undefined : err.message,
  });
  ctx.status = err.status;
  if (isHtmx(ctx) && view.partial && view.target) {
    ctx.set('HX-Retarget', view.target(ctx));
    ctx.set('HX-Reswap', 'outerHTML');
  }
  render(ctx, view.page, view.partial ?? null, data);
}

/** Minor units as a plain decimal for form fields ("12.50"), no currency symbol. */
function toDecimal(amount: number, currency: string): string {
  const exp = currencyExponent(currency) ?? 2;
  return exp ? (amount / 10 ** exp).toFixed(exp) : String(amount);
}

/**
 * After a mutation: htmx follows HX-Redirect; a plain form gets 303 See Other. A `toast` is shown
 * by the page it leads to.
 */
export function redirectAfterPost(ctx: Context, to: string, opts: { toast?: string } = {}): void {
  if (opts.toast) ctx.cookies.set(TOAST_COOKIE, encodeURIComponent(opts.toast), toastCookie(ctx, 60_000));
  if (isHtmx(ctx)) {
    ctx.set('HX-Redirect', to);
    ctx.status = 204;
  } else {
    ctx.status = 303;
    ctx.redirect(to);
  }
}
