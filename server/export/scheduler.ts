import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import type { Logger } from '../logger';
import { addDays, localDate, zonedMoment } from '../business-date';
import { getSettings } from '../settings/service';
import { copyExports } from '../backup/service';
import { runDueExports, zipExport, type ExportDeps } from './service';

/**
 * The nightly export's timer: at start, every day that is due and not written (the server was
 * off at export time) is written; then it sleeps until the next export time in the store's zone
 * (read again each time: the setting may change), writes what is due, and sleeps again. A
 * failure is logged and tried at the next wake (at most an hour away).
 */
export class ExportScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: ExportDeps & { db: Db; clock: Clock; log: Logger }) {}

  start(): void {
    this.stopped = false;
    this.running = this.run('start');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Resolves when the export in flight, if any, is done. */
  async idle(): Promise<void> {
    await this.running;
  }

  private async run(trigger: 'start' | 'nightly'): Promise<void> {
    try {
      const written = await runDueExports(this.o, trigger);
      if (written.length) this.o.log.info({ dates: written, trigger }, 'export: written');
      // and into the second backup folder (issue 27), as <folder>/exports/<date>.zip; a failed copy is logged there
      await copyExports({ db: this.o.db, log: this.o.log, dates: written, zip: (d) => zipExport(this.o.exportDir, d) });
    } catch (err) {
      this.o.log.error({ err }, 'export: failed; tried again at the next wake');
    }
    if (!this.stopped) await this.schedule();
  }

  private async schedule(): Promise<void> {
    let wait = 3_600_000;
    try {
      const s = await getSettings(this.o.db);
      if (s.exportTime) {
        const now = this.o.clock.now();
        const today = localDate(now, s.timezone);
        let at = zonedMoment(today, s.exportTime, s.timezone);
        if (at.getTime() <= now.getTime()) at = zonedMoment(addDays(today, 1), s.exportTime, s.timezone);
        wait = Math.min(wait, Math.max(1000, at.getTime() - now.getTime() + 1000));
      }
    } catch (err) {
      this.o.log.warn({ err }, 'export: could not read the export time');
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.run('nightly');
    }, wait);
    this.timer.unref();
  }
}
