import Koa from 'koa';
import Router from '@koa/router';
import type { Config } from './config';
import type { Clock } from './clock';
import type { Db } from './db/knex';
import type { Logger } from './logger';
import type { Io } from './realtime/io';
import { bodyParser } from './http/body';
import { errorHandler } from './http/errors';
import { healthz } from './http/health';
import { createViews, render, type Views } from './http/render';
import { requestLog } from './http/request-log';
import { serveStatic } from './http/static';
import { getSettings } from './settings/service';
import { orderRoutes } from './orders/routes';
import { orderRoom } from './realtime/io';

export interface AppDeps {
  config: Config;
  db: Db;
  clock: Clock;
  log: Logger;
  views?: Views;
  /** Set once the HTTP server exists; services emit through it after commit. */
  realtime: { io?: Io };
}

export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: false });
  const views = deps.views ?? createViews();
  const startedAt = Date.now();
  app.silent = true; // errors are logged by our error middleware, once

  app.use(requestLog(deps.log));
  app.use(async (ctx, next) => {
    ctx.state.views = views;
    ctx.state.view = {};
    await next();
  });
  app.use(errorHandler());
  app.use(serveStatic());
  app.use(bodyParser({ limit: 256 * 1024 }));

  const router = new Router();
  router.get('/healthz', healthz(deps.db, startedAt));
  router.get('/status', async (ctx) => {
    const settings = await getSettings(deps.db);
    render(ctx, 'home/index.html', null, { settings });
  });
  router.get('/status/clock', async (ctx) => {
    const settings = await getSettings(deps.db);
    const time = new Intl.DateTimeFormat('en-GB', { timeZone: settings.timezone, dateStyle: 'medium', timeStyle: 'medium' }).format(deps.clock.now());
    render(ctx, 'home/_clock.html', 'home/_clock.html', { time });
  });
  const events = {
    orderChanged(orderId: number, version: number) {
      deps.realtime.io?.to(orderRoom(orderId)).emit('order:updated', { orderId, version });
    },
  };
  router.use(orderRoutes({ db: deps.db, clock: deps.clock, events }).routes());
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
