import path from 'node:path';
import { systemClock } from '../clock';
import type { Config } from '../config';
import { lockDataDir } from '../db/data-dir-lock';
import { openDatabase, runningClusterUrl, type Database } from '../db/database';
import { createDb, type Db } from '../db/knex';
import { migrateLatest } from '../db/migrations';
import { markRestored } from '../ledger/service';
import { createLogger, type Logger } from '../logger';
import { getSettings } from '../settings/service';
import { backupsDir, createBackup, listBackups, restoreBackup } from './service';

type Command = (args: string[], config: () => Config) => Promise<number>;

export const BACKUP_USAGE = `  backup           back the database up now into DATA_DIR/backups (pg_dump, custom format),
                   copied to the second backup folder when one is set; prints the file
  backup --list    the backups kept, newest first
  restore FILE     replace the database with a backup (the server must be stopped); the next
                   start compares the journal with the cloud ledger before it sells`;

const out = (s: string) => process.stdout.write(s + '\n');

/** The store database's URL for the PostgreSQL tools, the embedded cluster started for `fn` when no server runs. */
async function withStoreUrl(config: Config, log: Logger, fn: (url: string) => Promise<number>, opts: { exclusive: boolean }): Promise<number> {
  if (!opts.exclusive) {
    const attached = config.DATABASE_URL ?? runningClusterUrl(config, log);
    if (attached) return fn(attached);
  }
  // restore: no server may run on this DATA_DIR meanwhile (the lock says which one does)
  const lock = await lockDataDir(config.dataDir);
  try {
    const database: Database = await openDatabase(config, log);
    try {
      return await fn(database.cluster ? database.cluster.tcpConnectionString('store') : database.url);
    } finally {
      await database.close();
    }
  } finally {
    await lock.release();
  }
}

async function withDb<T>(url: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = createDb(url, { poolMax: 1 });
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

/** `backup` and `restore` of the one command line (server/cli.ts). */
export function backupCommands(): Record<string, Command> {
  return {
    async backup(args, config) {
      const cfg = config();
      if (args.includes('--list')) {
        const list = listBackups(backupsDir(cfg));
        if (!list.length) out(`no backups in ${backupsDir(cfg)} yet`);
        for (const b of list) out(`${b.file}  ${(b.bytes / 1024).toFixed(0)} KiB  ${b.at.toISOString()}`);
        return 0;
      }
      const log = createLogger(cfg.LOG_LEVEL === 'info' ? 'warn' : cfg.LOG_LEVEL);
      return withStoreUrl(cfg, log, async (url) => {
        const s = await withDb(url, (db) => getSettings(db));
        const r = await createBackup({ config: cfg, url, clock: systemClock, policy: { retention: s.backupRetention, copyDir: s.backupCopyDir }, log });
        out(`backup written: ${r.file} (${(r.bytes / 1024).toFixed(0)} KiB)`);
        if (r.copy) out(`copied to ${r.copy}`);
        else if (r.copyError) out(`WARNING: ${r.copyError}`);
        else out('WARNING: no second backup folder is set (back office → Backups): this copy is on the same disk as the store');
        if (r.pruned.length) out(`removed by the retention rule (${s.backupRetention} kept): ${r.pruned.join(', ')}`);
        return r.copyError ? 1 : 0;
      }, { exclusive: false });
    },
    async restore(args, config) {
      const file = args.find((a) => !a.startsWith('--'));
      if (!file) {
        process.stderr.write('usage: restore FILE   (see `backup --list`)\n');
        return 2;
      }
      const cfg = config();
      const log = createLogger(cfg.LOG_LEVEL === 'info' ? 'warn' : cfg.LOG_LEVEL);
      return withStoreUrl(cfg, log, async (url) => {
        const { safety } = await restoreBackup({ config: cfg, url, file: path.resolve(file), clock: systemClock, log });
        if (safety) out(`the database as it was is kept in ${safety}`);
        const waits = await withDb(url, async (db) => {
          await migrateLatest(db); // a backup from an older version comes up to this one's schema
          return markRestored(db);
        });
        out(`restored ${path.resolve(file)}`);
        out(waits
          ? 'the next start compares the journal with the cloud ledger before any sale closes'
          : 'no cloud ledger is configured: receipt numbers continue from the backup; make sure no sale was made after it');
        return 0;
      }, { exclusive: true });
    },
  };
}
