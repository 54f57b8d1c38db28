import nunjucks from 'nunjucks';
import type { Context } from 'koa';
import { viewsDir } from '../paths';
import { currencyExponent, formatMoney } from '../money';
import { merged } from '../merge';

export type Views = nunjucks.Environment;

/** One template environment; autoescape is on, so every {{ value }} is HTML-escaped. */
export function createViews(dir = viewsDir): Views {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(dir, { noCache: false }), {
    autoescape: true,
    throwOnUndefined: false,
    trimBlocks: true,
    lstripBlocks: true,
  });
  env.addFilter('orderType', (t: string) => ({ counter: 'Counter', takeaway: 'Take-away', dine_in: 'Dine-in' })[t] ?? t);
  env.addFilter('decimal', (amount: number, currency: string) => toDecimal(Number(amount), currency));
  env.addFilter('money', (amount: number, currency: string) => formatMoney(Number(amount), currency));
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
  ctx.type = 'html';
  ctx.body = views.render(template, merged(ctx.state.view ?? {}, data));
}

/** Minor units as a plain decimal for form fields ("12.50"), no currency symbol. */
function toDecimal(amount: number, currency: string): string {
  const exp = currencyExponent(currency) ?? 2;
  return exp ? (amount / 10 ** exp).toFixed(exp) : String(amount);
}

/** After a mutation: htmx follows HX-Redirect; a plain form gets 303 See Other. */
export function redirectAfterPost(ctx: Context, to: string): void {
  if (isHtmx(ctx)) {
    ctx.set('HX-Redirect', to);
    ctx.status = 204;
  } else {
    ctx.status = 303;
    ctx.redirect(to);
  }
}
