import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { createApp } from './app';
import { systemClock, type Clock } from './clock';
import type { Config } from './config';
import { lockDataDir, type DataDirLock } from './db/data-dir-lock';
import { openDatabase, type Database } from './db/database';
import { migrateLatest } from './db/migrations';
import type { Db } from './db/knex';
import { createLogger, type Logger } from './logger';
import { createRealtime, type Io } from './realtime/io';
import { resolveSecretKey } from './secret-key';
import { seedSettings } from './settings/service';
import { seedDemo, type DemoInfo } from './demo/seed';

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
  demo?: DemoInfo;
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
    resolveSecretKey(config);
    const database: Database = await openDatabase(config, log);
    undo.push(() => database.close());
    const db = database.db;
    const applied = await migrateLatest(db);
    if (applied.length) log.info({ applied }, 'migrations applied');
    await seedSettings(db, clock, { storeName: config.STORE_NAME, timezone: config.TIMEZONE, currency: config.CURRENCY });
    const demo = opts.demo ? await seedDemo(db, clock) : undefined;

    const realtime: { io?: Io } = {};
    const app = createApp({ config, db, clock, log, realtime });
    const server = config.TLS_CERT
      ? https.createServer({ cert: fs.readFileSync(config.TLS_CERT), key: fs.readFileSync(config.TLS_KEY!) })
      : http.createServer();
    server.on('request', app.callback());
    const io = createRealtime(server);
    realtime.io = io;
    const sockets = new Set<Socket>();
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.PORT, config.HOST, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
    const url = `${config.TLS_CERT ? 'https' : 'http'}://${host}:${port}`;
    log.info({ url }, 'store server listening');

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        log.info('shutting down');
        // stop accepting; let in-flight requests finish, up to the timeout
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        io.disconnectSockets(true);
        const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), config.SHUTDOWN_TIMEOUT_MS).unref());
        if ((await Promise.race([closed, timeout])) === 'timeout') {
          log.warn('in-flight requests did not finish in time; closing them');
          for (const s of sockets) s.destroy();
          await closed;
        }
        await new Promise<void>((resolve) => io.close(() => resolve()));
        await rollback();
        log.info('stopped');
      })());
    return { url, port, db, io, demo, stop };
  } catch (err) {
    await rollback();
    throw err;
  }
}
