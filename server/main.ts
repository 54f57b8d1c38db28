import { createApp } from './app';
import { systemClock, type Clock } from './clock';
import type { Config } from './config';
import { lockDataDir, type DataDirLock } from './db/data-dir-lock';
import { openDatabase, type Database } from './db/database';
import { pruneIdempotencyKeys } from './api/middleware';
import { migrateLatest } from './db/migrations';
import type { Db } from './db/knex';
import { createLogger, type Logger } from './logger';
import type { Io } from './realtime/io';
import { listen } from './http/server';
import { socketAuthorizer } from './auth/socket-auth';
import { WebhookWorker } from './webhooks/worker';
import { resolveSecretKey } from './secret-key';
import { seedSettings } from './settings/service';
import { seedDemo, type DemoInfo } from './demo/seed';
import { createPairingCode } from './auth/pairing';

export interface StartOptions {
  demo?: boolean;
  clock?: Clock;
  log?: Logger;
}

export interface RunningServer {
  url: string;
  port: number;
  db: Db;
  io: Io;
  demo?: DemoInfo & { pairingCode?: string };
  stop(): Promise<void>;
}

/** The composition root: config → lock → database → migrations → http + socket.io → workers. */
export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? createLogger(config.LOG_LEVEL);
  const clock = opts.clock ?? systemClock;
  const undo: Array<() => Promise<void>> = [];
  const rollback = async () => {
    for (const f of undo.reverse()) await f().catch((err) => log.error({ err }, 'cleanup failed'));
  };
  try {
    const lock: DataDirLock = await lockDataDir(config.dataDir);
    undo.push(() => lock.release());
    const secretKey = resolveSecretKey(config);
    const database: Database = await openDatabase(config, log);
    undo.push(() => database.close());
    const db = database.db;
    const applied = await migrateLatest(db);
    if (applied.length) log.info({ applied }, 'migrations applied');
    await seedSettings(db, clock, { storeName: config.STORE_NAME, timezone: config.TIMEZONE, currency: config.CURRENCY });
    let demo: (DemoInfo & { pairingCode?: string }) | undefined;
    if (opts.demo) {
      demo = await seedDemo(db, clock);
      // a one-time code so the first browser can become a terminal without the setup page
      const { code } = await createPairingCode({ db, clock }, { name: 'Counter 1', kind: 'counter' }, { staffId: null, terminalId: null });
      demo.pairingCode = code;
    }

    const realtime: { io?: Io } = {};
    // API idempotency keys are kept IDEMPOTENCY_TTL_MS (24 h); older ones are pruned hourly
    const prune = () => void pruneIdempotencyKeys(db, clock).catch((err) => log.warn({ err }, 'could not prune expired idempotency keys'));
    prune();
    const pruning = setInterval(prune, 3600_000);
    pruning.unref();
    undo.push(async () => clearInterval(pruning));
    const webhooks = new WebhookWorker({ db, clock, log });
    webhooks.start();
    undo.push(() => webhooks.stop());
    const app = createApp({ config, db, clock, log, realtime, secretKey, webhooks });
    const http = await listen(app, {
      port: config.PORT,
      host: config.HOST,
      tls: config.TLS_CERT ? { cert: config.TLS_CERT, key: config.TLS_KEY! } : undefined,
      timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      log,
      authorize: socketAuthorizer(db, secretKey),
    });
    realtime.io = http.io;
    const { url, port, io } = http;
    log.info({ url }, 'store server listening');

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        log.info('shutting down');
        await http.close();
        await rollback();
        log.info('stopped');
      })());
    return { url, port, db, io, demo, stop };
  } catch (err) {
    await rollback();
    throw err;
  }
}
