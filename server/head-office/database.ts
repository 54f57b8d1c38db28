import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { lockDataDir } from '../db/data-dir-lock';
import { clusterFor } from '../db/database';
import { createDb, type Db } from '../db/knex';
import type { Logger } from '../logger';
import type { PgCluster } from '../db/embedded';

/**
 * The head office's database: DATABASE_URL when given (a chain's PostgreSQL, maybe Citus), else
 * its own embedded cluster under DATA_DIR/pg (server/db/embedded.ts), where it makes the database
 * `ledger` owned by an ordinary role `ledger`. The service always runs as an ordinary role: it
 * owns the tables but holds no UPDATE, DELETE or TRUNCATE on the entries (the migration revokes
 * them), which a superuser would ignore.
 */
export const DB_NAME = 'ledger';
export const DB_ROLE = 'ledger';

export interface LedgerDatabase {
  db: Db;
  close(): Promise<void>;
}

function rolePasswordFile(config: Config): string {
  return path.join(config.dataDir, 'ledger-db.password');
}

/** The role's password, made on first start (it lives beside the cluster, readable by its owner only). */
function rolePassword(config: Config): string {
  const file = rolePasswordFile(config);
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    const pw = crypto.randomBytes(24).toString('base64url');
    fs.mkdirSync(config.dataDir, { recursive: true });
    fs.writeFileSync(file, pw + '\n', { mode: 0o600 });
    return pw;
  }
}

/** The cluster's URL for `database`, as the role `ledger`. */
function asRole(cluster: PgCluster, database: string, password: string): string {
  return cluster.connectionString(database).replace(/^postgres:\/\/[^@]*@/, `postgres://${DB_ROLE}:${encodeURIComponent(password)}@`);
}

/** The role and its database, made once as the cluster's superuser. */
async function ensureRoleAndDatabase(cluster: PgCluster, password: string): Promise<void> {
  const admin = createDb(cluster.connectionString('postgres'), { poolMax: 1 });
  try {
    // a password is a literal in these statements (no parameters there): base64url has no quote
    if (!/^[A-Za-z0-9_-]+$/.test(password)) throw new Error('the ledger role password file holds unexpected characters');
    const role = await admin.raw('select 1 from pg_roles where rolname = ?', [DB_ROLE]);
    if (!role.rows.length) await admin.raw(`create role ?? login nosuperuser nocreatedb nocreaterole password '${password}'`, [DB_ROLE]);
    else await admin.raw(`alter role ?? login nosuperuser password '${password}'`, [DB_ROLE]);
    const found = await admin.raw('select 1 from pg_database where datname = ?', [DB_NAME]);
    if (!found.rows.length) await admin.raw('create database ?? owner ??', [DB_NAME, DB_ROLE]);
  } finally {
    await admin.destroy();
  }
}

/** Opens the service's database (DATABASE_URL, or the embedded cluster, started here and stopped by close()). */
export async function openLedgerDatabase(config: Config, log: Logger): Promise<LedgerDatabase> {
  if (config.DATABASE_URL) {
    const db = createDb(config.DATABASE_URL, { poolMax: config.DB_POOL_MAX });
    return { db, close: () => db.destroy() };
  }
  const cluster = clusterFor(config, log);
  await cluster.start();
  try {
    const password = rolePassword(config);
    await ensureRoleAndDatabase(cluster, password);
    const db = createDb(asRole(cluster, DB_NAME, password), { poolMax: config.DB_POOL_MAX });
    return {
      db,
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

/**
 * Runs `fn` on the service's database whether or not `ledger serve` runs: DATABASE_URL, else the
 * embedded cluster a running service holds, else the cluster started just for this.
 */
export async function withLedgerDatabase<T>(config: Config, log: Logger, fn: (db: Db) => Promise<T>): Promise<T> {
  const cluster = clusterFor(config, log);
  let url = config.DATABASE_URL;
  if (!url && cluster.runningPid()) {
    const port = Number(fs.readFileSync(path.join(config.dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[3]);
    url = `postgres://${DB_ROLE}:${encodeURIComponent(rolePassword(config))}@127.0.0.1:${port}/${DB_NAME}`;
  }
  if (url) {
    const db = createDb(url, { poolMax: 2 });
    try {
      return await fn(db);
    } finally {
      await db.destroy();
    }
  }
  const lock = await lockDataDir(config.dataDir);
  try {
    const database = await openLedgerDatabase(config, log);
    try {
      return await fn(database.db);
    } finally {
      await database.close();
    }
  } finally {
    await lock.release();
  }
}

/** Whether the service's role could UPDATE or DELETE entries despite the REVOKE: a superuser. */
export async function runsAsSuperuser(db: Db): Promise<boolean> {
  const r = await db.raw('select rolsuper from pg_roles where rolname = current_user');
  return Boolean((r.rows as Array<{ rolsuper: boolean }>)[0]?.rolsuper);
}
