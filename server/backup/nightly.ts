import { businessDate } from '../business-date';
import type { Clock } from '../clock';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import type { Logger } from '../logger';
import { getSettings } from '../settings/service';
import { BACKUP_PREFIX, backupsDir, createBackup, listBackups, type BackupFile, type BackupResult } from './service';

/** How often the server looks whether today's backup is made. */
export const BACKUP_CHECK_EVERY_MS = 10 * 60_000;

/** The time a backup was made, from its name (the clock's time, so a test's clock counts). */
export function backupTime(b: Pick<BackupFile, 'name'>): Date | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})Z/.exec(b.name.slice(BACKUP_PREFIX.length));
  return m ? new Date(`${m[1]}T${m[2]}:${m[3]}:${m[4]}Z`) : undefined;
}

/**
 * The store's backups while the server runs: one a business day ("nightly": the first check after
 * the business day starts, by default 04:00, when the store is closed), and "Back up now" from
 * the back office. pg_dump reads a consistent snapshot, so sales go on meanwhile.
 */
export class Backups {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<BackupResult> | undefined;
  private ticking: Promise<void> | undefined;
  lastError: { at: Date; message: string } | undefined;
  lastResult: (BackupResult & { at: Date }) | undefined;

  constructor(private readonly o: { config: Config; db: Db; clock: Clock; log: Logger; url: () => string | undefined; everyMs?: number }) {}

  get dir(): string {
    return backupsDir(this.o.config);
  }

  /** Whether this server can make backups (it knows its database's address). */
  get available(): boolean {
    return !!this.o.url();
  }

  list(): BackupFile[] {
    return listBackups(this.dir);
  }

  /** One backup now (or the one already being made). */
  backUp(tag = ''): Promise<BackupResult> {
    const url = this.o.url();
    if (!url) return Promise.reject(new Error('this server does not know its database address, so it cannot back it up'));
    this.running ??= (async () => {
      try {
        const s = await getSettings(this.o.db);
        const r = await createBackup({ config: this.o.config, url, clock: this.o.clock, log: this.o.log, tag, policy: { retention: s.backupRetention, copyDir: s.backupCopyDir } });
        this.lastResult = { ...r, at: this.o.clock.now() };
        this.lastError = r.copyError ? { at: this.o.clock.now(), message: r.copyError } : undefined;
        return r;
      } catch (err) {
        this.lastError = { at: this.o.clock.now(), message: (err as Error).message };
        throw err;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Backs up when no backup of the current business day exists yet. */
  async backUpIfDue(): Promise<BackupResult | undefined> {
    const s = await getSettings(this.o.db);
    const day = (at: Date) => businessDate(at, s.timezone, s.businessDayStart);
    const today = day(this.o.clock.now());
    const newest = this.list().map(backupTime).find((t): t is Date => !!t);
    if (newest && day(newest) === today) return undefined;
    return this.backUp();
  }

  /**
   * Checks every BACKUP_CHECK_EVERY_MS, the first one that long after the start (a start is busy
   * enough, and a server restarted in a loop must not dump in a loop); a failure is logged and
   * tried again at the next check.
   */
  start(): void {
    if (!this.available) return;
    const tick = () => {
      this.ticking = this.backUpIfDue().then(
        () => undefined,
        (err) => this.o.log.error({ err }, 'nightly backup failed; trying again at the next check'),
      );
    };
    this.timer = setInterval(tick, this.o.everyMs ?? BACKUP_CHECK_EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    await this.running?.catch(() => undefined);
  }
}
