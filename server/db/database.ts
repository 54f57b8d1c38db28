import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { PgCluster } from './embedded';
import { createDb, type Db } from './knex';

export interface Database {
  db: Db;
  url: string;
  cluster?: PgCluster;
  close(): Promise<void>;
}

export function clusterFor(config: Config, log: Logger): PgCluster {
  return new PgCluster({
    dir: path.join(config.dataDir, 'pg'),
    binDir: config.PG_BIN_DIR,
    port: config.PG_PORT,
    runAs: config.PG_RUN_AS,
    log,
  });
}

/**
 * The database the server uses: DATABASE_URL when given (starts nothing), else the embedded
 * cluster under DATA_DIR/pg, started here and stopped by close().
 */
export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  if (config.DATABASE_URL) {
    const db = createDb(config.DATABASE_URL, { poolMax: config.DB_POOL_MAX });
    return { db, url: config.DATABASE_URL, close: () => db.destroy() };
  }
  const cluster = clusterFor(config, log);
  await cluster.start();
  try {
    const adminUrl = cluster.connectionString('postgres');
    await ensureDatabase(adminUrl, 'store');
    const url = cluster.connectionString('store');
    const db = createDb(url, { poolMax: config.DB_POOL_MAX });
    return {
      db,
      url,
      cluster,
      async close() {
        await db.destroy();
        await cluster.stop();
      },
    };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

/** Attaches to the embedded cluster a running server already started, without starting anything. */
export function runningClusterUrl(config: Config, log: Logger): string | undefined {
  const cluster = clusterFor(config, log);
  const pid = cluster.runningPid();
  if (!pid) return undefined;
  const lines = fs.readFileSync(path.join(config.dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n');
  const port = Number(lines[3]);
  const password = encodeURIComponent(fs.readFileSync(cluster.passwordFile, 'utf8').trim());
  return `postgres://postgres:${password}@127.0.0.1:${port}/store`;
}

export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = createDb(adminUrl, { poolMax: 1 });
  try {
    const found = await admin.raw('select 1 from pg_database where datname = ?', [name]);
    if (!found.rows.length) await admin.raw(`create database ??`, [name]);
  } finally {
    await admin.destroy();
  }
}
