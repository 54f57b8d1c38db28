import Koa, { type Context, type Next } from 'koa';
import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import { isAppError } from '../errors';
import { healthz } from '../http/health';
import { createViews, type Views } from '../http/render';
import { requestLog } from '../http/request-log';
import { noStoreByDefault, serveStatic } from '../http/static';
import type { Logger } from '../logger';
import { statusPages } from './pages';
import type { RateLimit } from './receive';
import { protocolRoutes } from './routes';

export interface HeadOfficeDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  /** the service's SECRET_KEY: unseals the stores' secrets, signs the status page's sessions */
  secretKey: string;
  rateLimit?: RateLimit;
  views?: Views;
}

/** Per store, across every instance: a catch-up of a week's backlog in 5000-entry batches fits easily. */
export const DEFAULT_RATE_LIMIT: RateLimit = { burst: 120, perMinute: 1200 };

/** Errors as the protocol speaks (JSON) on /v1 and /healthz, as a page elsewhere; never a stack trace. */
function errors(views: Views) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = ctx.path.startsWith('/v1/') ? { error: 'not-found' } : views.render('head-office/error.html', { status: 404, message: 'That page was not found.' });
      }
    } catch (caught) {
      const known = isAppError(caught) ? caught : undefined;
      if (!known) ctx.state.log?.error({ err: caught }, 'unexpected error');
      ctx.status = known?.status ?? 500;
      const message = known?.message ?? 'Something went wrong at the head office. The problem has been logged.';
      if (ctx.path.startsWith('/v1/') || ctx.path === '/healthz') ctx.body = { error: message };
      else {
        ctx.type = 'html';
        ctx.body = views.render('head-office/error.html', { status: ctx.status, message });
      }
    }
  };
}

/** The head office's Koa app (issue 26): the ledger protocol, /healthz, the status page. */
export function createHeadOfficeApp(deps: HeadOfficeDeps): Koa {
  const app = new Koa({ proxy: false });
  const views = deps.views ?? createViews();
  const receive = { db: deps.db, clock: deps.clock, log: deps.log, secretKey: deps.secretKey, rateLimit: deps.rateLimit ?? DEFAULT_RATE_LIMIT };
  const protocol = protocolRoutes(receive);
  const pages = statusPages({ db: deps.db, clock: deps.clock, secretKey: deps.secretKey, views });
  app.use(requestLog(deps.log));
  app.use(noStoreByDefault());
  app.use(errors(views));
  app.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    await next();
  });
  app.use(serveStatic());
  const health = healthz(deps.db, Date.now());
  app.use(async (ctx, next) => (ctx.path === '/healthz' && ctx.method === 'GET' ? health(ctx) : next()));
  app.use(protocol.routes()).use(protocol.allowedMethods());
  app.use(pages.routes()).use(pages.allowedMethods());
  return app;
}
