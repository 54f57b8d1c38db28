import Koa from 'koa';
import Router from '@koa/router';
import type { Config } from './config';
import type { Clock } from './clock';
import type { Db } from './db/knex';
import type { Logger } from './logger';
import type { EventBus } from './events';
import { relayToSockets, terminalRoom, type Io } from './realtime/io';
import { kitchenRoutes } from './kitchen/routes';
import { tableRoutes } from './tables/routes';
import { authRoutes } from './auth/routes';
import { authenticate, csrf, requires, securityHeaders } from './auth/middleware';
import { RateLimiter } from './auth/rate-limit';
import { bodyParser } from './http/body';
import { errorHandler } from './http/errors';
import { healthz } from './http/health';
import { methodNotAllowed } from './http/methods';
import { createViews, render, type Views } from './http/render';
import { requestLog } from './http/request-log';
import { noStoreByDefault, serveStatic } from './http/static';
import { allowedHosts } from './http/allowed-hosts';
import { orderRoutes } from './orders/routes';
import { historyRoutes } from './orders/history';
import { settingsRoutes } from './settings/routes';
import { catalogRoutes } from './catalog/routes';
import { inventoryRoutes } from './inventory/routes';
import { staffRoutes } from './staff/routes';
import { apiRoutes } from './api/routes';
import { integrationRoutes } from './api/backoffice-routes';
import { getSettings } from './settings/service';
import { CookieKeys } from './auth/cookies';
import { deviceRoutes } from './devices/routes';
import { printingRoutes } from './printing/routes';
import { PrinterPool } from './printing/service';
import { LedgerShipper } from './ledger/service';
import { ledgerRoutes } from './ledger/routes';
import { cashRoutes } from './cash/routes';
import { reportRoutes } from './reports/routes';
import { scannerRoutes } from './devices/scanner-routes';
import type { ScannerService } from './devices/scanners';
import { createCardDeps, type CardDeps } from './payments/service';
import { paymentRoutes } from './payments/routes';
import { Backups } from './backup/nightly';
import { backupRoutes } from './backup/routes';
import { caRoutes } from './http/tls';

export interface AppDeps {
  config: Config;
  db: Db;
  clock: Clock;
  log: Logger;
  /** signs cookies and derives CSRF tokens */
  secretKey: string;
  views?: Views;
  /** Set once the HTTP server exists; it hears the event bus (realtime/io.ts, relayToSockets). */
  realtime: { io?: Io };
  /**
   * The after-commit event bus (events.ts), made by the composition root: services publish on it,
   * socket.io (subscribed here) and the outbox worker (subscribed in main.ts) listen.
   */
  events: EventBus;
  /** the printers' drivers, shared with the print queue's worker (main.ts); made here when not given */
  printers?: PrinterPool;
  /** the cloud ledger's shipper (server/ledger/), made and started by main.ts; without it, one that ships only when asked */
  ledger?: LedgerShipper;
  /** the USB barcode scanners' service (server/devices/scanners.ts), made and started by main.ts */
  scanners?: ScannerService;
  /** card payments through Stripe Terminal (server/payments/), made by main.ts with its reconciler; made here from the config when not given */
  cards?: CardDeps;
  /** the nightly backups (server/backup/), made and started by main.ts; without it, one that knows DATABASE_URL only */
  backups?: Backups;
}

export interface App extends Koa {
  /** every router, so tests can enumerate the routes and what each declares */
  routers: Router[];
}

/** The Koa app: middleware order, then every feature's routes. */
export function createApp(deps: AppDeps): App {
  // signed cookies: keygrip's signatures with a cheaper constant-time check (auth/cookies.ts)
  const app = new Koa({ proxy: false, keys: new CookieKeys([deps.secretKey]) as unknown as string[] }) as App;
  const views = deps.views ?? createViews();
  const startedAt = Date.now();
  app.silent = true; // errors are logged by our error middleware, once

  app.use(requestLog(deps.log));
  app.use(async (ctx, next) => {
    ctx.state.views = views;
    // plain HTTP: the back office warns (backoffice/_appliance_warnings.html); a store CA: the pairing page offers it
    ctx.state.view = { secure: ctx.secure, storeCa: !!deps.config.TLS_CA };
    await next();
  });
  app.use(noStoreByDefault());
  app.use(errorHandler());
  // a known path with a method it lacks: 405 with Allow, rendered by errorHandler (problem+json under /api/)
  app.use(methodNotAllowed());
  app.use(securityHeaders());
  app.use(allowedHosts(deps.db));
  app.use(serveStatic());
  app.use(bodyParser({ limit: 256 * 1024 }));
  app.use(authenticate(deps));
  app.use(csrf(deps.secretKey));

  const { db, clock, events } = deps;
  const ledger = deps.ledger ?? new LedgerShipper({ db, clock, log: deps.log, secretKey: deps.secretKey });
  relayToSockets(events, () => deps.realtime.io);
  const kitchenDeps = { db, clock, events };
  const printers = deps.printers ?? new PrinterPool({ dataDir: deps.config.dataDir });
  const cards = deps.cards ?? createCardDeps({ db, clock, events, log: deps.log, config: deps.config });
  const backups = deps.backups ?? new Backups({ config: deps.config, db, clock, log: deps.log, url: () => deps.config.DATABASE_URL });
  const router = new Router();
  router.get('/healthz', requires('public'), healthz(db, startedAt));
  router.get('/status', requires('device'), async (ctx) => {
    render(ctx, 'home/index.html', null, { settings: await getSettings(db) });
  });
  router.get('/status/clock', requires('device'), async (ctx) => {
    const settings = await getSettings(db);
    const time = new Intl.DateTimeFormat('en-GB', { timeZone: settings.timezone, dateStyle: 'medium', timeStyle: 'medium' }).format(clock.now());
    render(ctx, 'home/_clock.html', 'home/_clock.html', { time });
  });
  const routers = [
    router,
    authRoutes({
      db, clock,
      limits: { login: new RateLimiter(clock, deps.config.RATE_LIMIT_LOGIN_PER_MIN), pair: new RateLimiter(clock, deps.config.RATE_LIMIT_PAIR_PER_MIN) },
    }),
    // before the order routes: /orders/:id would take /orders/history
    historyRoutes({ db, clock }),
    orderRoutes({
      db, clock, events, kitchen: kitchenDeps, cards,
      catalogChanged: (productId, available) => events.publish('product:availability', { productId, available }),
    }),
    kitchenRoutes(kitchenDeps),
    tableRoutes({ db, clock, events, checks: { db, clock, events } }),
    settingsRoutes({ db, clock }),
    catalogRoutes({ db, clock, events }), // the back office's catalog, stock and staff pages (issue 24)
    inventoryRoutes({ db, clock, events }),
    staffRoutes({ db, clock }),
    integrationRoutes({ db, clock }),
    deviceRoutes({
      db, clock, events, pool: printers, dataDir: deps.config.dataDir,
      disconnectTerminal: (id) => deps.realtime.io?.in(terminalRoom(id)).disconnectSockets(true),
    }),
    printingRoutes({ db, clock, events }),
    paymentRoutes(cards),
    ledgerRoutes({ db, clock, secretKey: deps.secretKey, ledger }),
    cashRoutes({ db, clock, events }), // cash drawers, reports and the close of day (issue 23)
    reportRoutes({ db, clock, events, exportDir: deps.config.exportDir, ledger, log: deps.log }),
    caRoutes(deps.config),
    backupRoutes({ db, clock, backups }),
    scannerRoutes({ db, clock, events, scanners: deps.scanners }),
    apiRoutes({ db, clock, events, ledger, kitchen: kitchenDeps, limiter: new RateLimiter(clock, deps.config.RATE_LIMIT_API_PER_MIN), scanners: deps.scanners, printers, cards, backups }),
  ];
  for (const r of routers) {
    app.use(r.routes());
    app.use(r.allowedMethods());
  }
  app.routers = routers;
  return app;
}
