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
import { PRINT_TOPIC, PrinterPool, printTopic } from './printing/service';
import { resolveSecretKey } from './secret-key';
import { seedSettings } from './settings/service';
import { seedDemo, type DemoInfo } from './demo/seed';
import { createPairingCode } from './auth/pairing';
import { LedgerShipper, markRestored } from './ledger/service';
import { ExportScheduler } from './export/service';
import { Backups } from './backup/nightly';
import { ScannerService } from './devices/scanners';
import type { NodeHid } from '../drivers/scanner/hid-source';
import { CardReconciler, createCardDeps } from './payments/service';

export interface StartOptions {
  demo?: boolean;
  clock?: Clock;
  log?: Logger;
  /** the database was just restored from a backup: no sale closes before the journal was compared with the cloud ledger */
  afterRestore?: boolean;
  /** loads node-hid for the USB scanners; injected so a test can make it fail */
  loadHid?: () => Promise<NodeHid>;
}

export interface RunningServer {
  url: string;
  port: number;
  db: Db;
  io: Io;
  demo?: DemoInfo & { pairingCode?: string };
  scanners: ScannerService;
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
    // the printers' drivers, shared by the print queue and the back office's live status
    const printers = new PrinterPool({ dataDir: config.dataDir });
    undo.push(() => printers.close());
    const outbox = new OutboxWorker({ db, clock, log, topics: { [WEBHOOK_TOPIC]: webhookTopic({ db }), [PRINT_TOPIC]: printTopic({ db, clock, log, events, pool: printers }) } });
    events.subscribe('outbox:written', () => outbox.wake());
    events.subscribe('ticket:created', () => outbox.wake()); // a send's chits are print jobs, written with its tickets (server/printing/)
    outbox.start();
    undo.push(() => outbox.stop());
    // the journal to the cloud ledger (server/ledger/): at once (it asks the ledger's head), then every interval
    if (opts.afterRestore && (await markRestored(db))) log.warn('started after a restore: sales wait until the journal was compared with the cloud ledger');
    const ledger = new LedgerShipper({ db, clock, log, secretKey });
    ledger.start();
    undo.push(() => ledger.stop());
    // a backup each business day into DATA_DIR/backups, and "Back up now" (server/backup/)
    const backups = new Backups({ config, db, clock, log, url: () => database.cluster?.tcpConnectionString('store') ?? database.url });
    backups.start();
    undo.push(() => backups.stop());
    // the owners' nightly export at the configured store time, and any night missed while off, now (server/export/)
    const exports = new ExportScheduler({ db, clock, log, exportDir: config.exportDir });
    exports.start();
    undo.push(() => exports.stop());
    // USB barcode scanners: started once socket.io exists (a scan tells its terminal)
    const scanners = new ScannerService({ db, clock, events, log, io: () => realtime.io, loadHid: opts.loadHid });
    // card payments (server/payments/): what a crash left pending is reconciled at once, then every minute
    const cards = createCardDeps({ db, clock, events, log, config, demo: opts.demo });
    const reconciler = new CardReconciler(cards);
    reconciler.start();
    undo.push(() => reconciler.stop());
    const app = createApp({ config, db, clock, log, realtime, secretKey, ledger, events, scanners, printers, cards, backups });
    const http = await listen(app, {
      port: config.PORT,
      host: config.HOST,
      tls: config.TLS_CERT ? { cert: config.TLS_CERT, key: config.TLS_KEY! } : undefined,
      timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      log,
      authorize: socketAuthorizer(db, secretKey),
    });
    realtime.io = http.io;
    undo.push(() => scanners.stop());
    await scanners.start();
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
    return { url, port, db, io, demo, scanners, stop };
  } catch (err) {
    await rollback();
    throw err;
  }
}
