import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../clock';
import type { Config } from '../config';
import { createDb, type DbOrTrx } from '../db/knex';
import type { Logger } from '../logger';
import { getSettings } from '../settings/service';
import { dumpTo, isCustomDump, restoreFrom } from './dump';

/**
 * Backups of the store's database (issue 27): pg_dump in custom format into DATA_DIR/backups,
 * the newest `retention` kept, each also copied to a second folder (a mounted USB stick or a
 * network share) when one is set. `restore FILE` brings one back (server/backup/cli.ts); the
 * server then compares its journal with the cloud ledger before it sells again.
 */
export const BACKUP_PREFIX = 'store-';
export const BACKUP_SUFFIX = '.dump';

export interface BackupPolicy {
  /** how many backups each folder keeps (the newest) */
  retention: number;
  /** a second folder every backup is copied to; '' = none */
  copyDir: string;
}

export interface BackupFile {
  name: string;
  file: string;
  bytes: number;
  at: Date;
}

export interface BackupResult {
  file: string;
  bytes: number;
  /** where the second copy went, when a second folder is set and the copy worked */
  copy?: string;
  /** why the second copy failed (the backup itself is made) */
  copyError?: string;
  /** backups removed by the retention rule, in both folders */
  pruned: string[];
}

export const backupsDir = (config: Pick<Config, 'dataDir'>): string => path.join(config.dataDir, 'backups');

/** "store-2026-12-02T03-15-00Z.dump": sorts by time, safe on every file system a USB stick carries. */
export function backupName(at: Date, tag = ''): string {
  return `${BACKUP_PREFIX}${at.toISOString().slice(0, 19).replace(/:/g, '-')}Z${tag}${BACKUP_SUFFIX}`;
}

/** The backups in a folder, newest first. */
export function listBackups(dir: string): BackupFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(BACKUP_PREFIX) && n.endsWith(BACKUP_SUFFIX))
    .flatMap((name) => {
      const file = path.join(dir, name);
      const st = fs.statSync(file, { throwIfNoEntry: false });
      return st?.isFile() ? [{ name, file, bytes: st.size, at: st.mtime }] : [];
    })
    .sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
}

/** Removes all but the newest `keep` backups of a folder; returns the names removed. */
export function pruneBackups(dir: string, keep: number): string[] {
  const old = listBackups(dir).slice(Math.max(1, keep));
  for (const b of old) fs.rmSync(b.file, { force: true });
  return old.map((b) => b.name);
}

/**
 * One backup of the database at `url` now: dumped into DATA_DIR/backups, copied to the second
 * folder, then each folder pruned to the retention. A failed second copy does not undo the backup:
 * it is said in the result (and the back office keeps warning).
 */
export async function createBackup(o: { config: Config; url: string; clock: Clock; policy: BackupPolicy; log: Logger; tag?: string }): Promise<BackupResult> {
  const dir = backupsDir(o.config);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, backupName(o.clock.now(), o.tag));
  await dumpTo(o.url, file, o.config.PG_BIN_DIR);
  const result: BackupResult = { file, bytes: fs.statSync(file).size, pruned: pruneBackups(dir, o.policy.retention) };
  if (o.policy.copyDir) {
    try {
      result.copy = copyBackup(file, o.policy.copyDir);
      result.pruned.push(...pruneBackups(o.policy.copyDir, o.policy.retention));
    } catch (err) {
      result.copyError = `could not copy the backup to ${o.policy.copyDir}: ${(err as Error).message}`;
      o.log.error({ err, copyDir: o.policy.copyDir }, 'backup made, but its second copy failed');
    }
  }
  o.log.info({ file, bytes: result.bytes, copy: result.copy, pruned: result.pruned }, 'backup made');
  return result;
}

/** Copies a file (a backup or an export) into the second folder, whole or not at all. */
export function copyBackup(file: string, copyDir: string): string {
  if (!fs.statSync(copyDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(`${copyDir} is not a folder (is the USB stick or the network share mounted?)`);
  }
  const to = path.join(copyDir, path.basename(file));
  fs.copyFileSync(file, `${to}.part`);
  fs.renameSync(`${to}.part`, to);
  return to;
}

/**
 * The nightly exports just written (issue 23), each as `<second folder>/exports/<date>.zip`, whole
 * or not at all, when a second backup folder is set. A copy that fails (the stick is not mounted)
 * is logged and the others go on: the export itself is made. Returns the files written.
 */
export async function copyExports(o: { db: DbOrTrx; log: Logger; dates: string[]; zip: (date: string) => Uint8Array }): Promise<string[]> {
  if (!o.dates.length) return [];
  const { backupCopyDir } = await getSettings(o.db);
  if (!backupCopyDir) return [];
  const out: string[] = [];
  for (const date of o.dates) {
    try {
      if (!fs.statSync(backupCopyDir, { throwIfNoEntry: false })?.isDirectory()) {
        throw new Error(`${backupCopyDir} is not a folder (is the USB stick or the network share mounted?)`);
      }
      const to = path.join(backupCopyDir, 'exports', `${date}.zip`);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.writeFileSync(`${to}.part`, o.zip(date));
      fs.renameSync(`${to}.part`, to);
      out.push(to);
    } catch (err) {
      o.log.error({ err, date, copyDir: backupCopyDir }, 'export written, but its copy to the second backup folder failed');
    }
  }
  if (out.length) o.log.info({ files: out }, 'exports copied to the second backup folder');
  return out;
}

/**
 * Replaces the database at `url` with a backup: the current contents are first kept as a backup
 * of their own (tagged "-before-restore"), then the schema is emptied and the dump restored in one
 * transaction. The server must not be running (the restore command holds the data folder's lock).
 */
export async function restoreBackup(o: { config: Config; url: string; file: string; clock: Clock; log: Logger }): Promise<{ safety?: string }> {
  if (!fs.statSync(o.file, { throwIfNoEntry: false })?.isFile()) throw new Error(`${o.file}: no such backup file`);
  if (!isCustomDump(o.file)) throw new Error(`${o.file} is not a backup this server made (not a pg_dump custom-format file)`);
  const db = createDb(o.url, { poolMax: 1 });
  let safety: string | undefined;
  try {
    const tables = await db.raw("select count(*)::int as n from pg_tables where schemaname = 'public'");
    if (tables.rows[0].n > 0) {
      safety = path.join(backupsDir(o.config), backupName(o.clock.now(), '-before-restore'));
      fs.mkdirSync(path.dirname(safety), { recursive: true, mode: 0o700 });
      await dumpTo(o.url, safety, o.config.PG_BIN_DIR);
      o.log.info({ file: safety }, 'the database as it was is kept as a backup');
    }
    await db.raw('drop schema public cascade; create schema public');
  } finally {
    await db.destroy();
  }
  await restoreFrom(o.url, o.file, o.config.PG_BIN_DIR);
  return { safety };
}
