import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { systemClock, type Clock } from '../clock';
import type { Config } from '../config';
import { lockDataDir } from '../db/data-dir-lock';
import type { Db } from '../db/knex';
import { createLogger, type Logger } from '../logger';
import { resolveSecretKey } from '../secret-key';
import { createHeadOfficeApp } from './app';
import { openLedgerDatabase, runsAsSuperuser } from './database';
import { migrateHeadOffice } from './migrations';
import type { RateLimit } from './receive';

export interface HeadOfficeOptions {
  clock?: Clock;
  log?: Logger;
  rateLimit?: RateLimit;
}

export interface RunningHeadOffice {
  url: string;
  port: number;
  db: Db;
  stop(): Promise<void>;
}

/**
 * `ledger serve`: lock DATA_DIR → database (embedded or DATABASE_URL) → migrations → HTTP. The
 * same order and the same parts as the store's server/main.ts, with the head office's own
 * database, migrations and app. Stops gracefully: no new connection, in-flight batches finish
 * (up to SHUTDOWN_TIMEOUT_MS), then the database.
 */
export async function startHeadOffice(config: Config, opts: HeadOfficeOptions = {}): Promise<RunningHeadOffice> {
  const log = opts.log ?? createLogger(config.LOG_LEVEL);
  const clock = opts.clock ?? systemClock;
  const undo: Array<() => Promise<void>> = [];
  const rollback = async () => {
    for (const f of undo.reverse()) await f().catch((err) => log.error({ err }, 'cleanup failed'));
  };
  try {
    const lock = await lockDataDir(config.dataDir);
    undo.push(() => lock.release());
    const secretKey = resolveSecretKey(config);
    const database = await openLedgerDatabase(config, log);
    undo.push(() => database.close());
    const db = database.db;
    const applied = await migrateHeadOffice(db);
    if (applied.length) log.info({ applied }, 'head office: migrations applied');
    if (await runsAsSuperuser(db)) log.warn('head office: connected as a superuser, which ignores the REVOKE that keeps entries append-only; connect as an ordinary role (docs/HEAD-OFFICE.md)');
    const app = createHeadOfficeApp({ db, clock, log, secretKey, rateLimit: opts.rateLimit });
    const server = config.TLS_CERT
      ? https.createServer({ cert: fs.readFileSync(config.TLS_CERT), key: fs.readFileSync(config.TLS_KEY!) }, app.callback())
      : http.createServer(app.callback());
    server.requestTimeout = 120_000;
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
    log.info({ url }, 'head office listening');
    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        log.info('head office: shutting down');
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), config.SHUTDOWN_TIMEOUT_MS).unref());
        if ((await Promise.race([closed, timeout])) === 'timeout') {
          log.warn('head office: in-flight requests did not finish in time; closing them');
          for (const s of sockets) s.destroy();
          await closed;
        }
        await rollback();
        log.info('head office: stopped');
      })());
    return { url, port, db, stop };
  } catch (err) {
    await rollback();
    throw err;
  }
}
