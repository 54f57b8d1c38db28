import nunjucks from 'nunjucks';
import type { Context } from 'koa';
import { viewsDir } from '../paths';
import { formatMoney } from '../money';

export type Views = nunjucks.Environment;

/** One template environment; autoescape is on, so every {{ value }} is HTML-escaped. */
export function createViews(dir = viewsDir): Views {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(dir, { noCache: false }), {
    autoescape: true,
    throwOnUndefined: false,
    trimBlocks: true,
    lstripBlocks: true,
  });
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
  ctx.body = views.render(template, { ...(ctx.state.view ?? {}), ...data });
}
