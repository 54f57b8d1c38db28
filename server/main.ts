import { createApp } from './app';
import { systemClock, type Clock } from './clock';
import type { Config } from './config';
import { lockDataDir, type DataDirLock } from './db/data-dir-lock';
import { openDatabase, type Database } from './db/database';
import { migrateLatest } from './db/migrations';
import type { Db } from './db/knex';
import { createLogger, type Logger } from './logger';
import type { Io } from './realtime/io';
import { listen } from './http/server';
import { socketAuthorizer } from './auth/socket-auth';
import { createEventBus } from './events';
import { OutboxWorker } from './outbox/worker';
import { schedulePrune } from './retention';
import { WEBHOOK_TOPIC } from './webhooks/service';
import { webhookTopic } from './webhooks/worker';
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

/** The composition root: config → lock → database → migrations → event bus → workers → http + socket.io. */
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
    // expired idempotency keys, old sessions, pairing codes and webhook history: at once, then hourly (retention.ts)
    const pruning = schedulePrune({ db, clock, log });
    undo.push(() => pruning.stop());
    // what services tell after commit: socket.io subscribes in createApp, the outbox worker here
    const events = createEventBus(log);
    const outbox = new OutboxWorker({ db, clock, log, topics: { [WEBHOOK_TOPIC]: webhookTopic({ db }) } });
    events.subscribe('outbox:written', () => outbox.wake());
    outbox.start();
    undo.push(() => outbox.stop());
    const app = createApp({ config, db, clock, log, realtime, secretKey, events });
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
