import type { Clock } from '../clock';
import type { Db, Trx } from '../db/knex';
import type { Publisher } from '../events';
import type { Logger } from '../logger';
import type { OutboxRow } from '../outbox/outbox';
import type { Attempt, TopicHandler } from '../outbox/worker';
import { PrinterError, type PrinterStatus } from '../../drivers/printer/printer';
import type { JobMarks } from './layouts';
import { ownMarks, type PrintJobRow } from './jobs';
import type { PrinterPool } from './pool';
import { fingerprint, renderFor, type PrinterRow } from './render';
import { untilAborted } from '../abort';

export interface PrintTopicOptions {
  db: Db;
  clock: Clock;
  log: Logger;
  /** told `printer:alert` when a printer fails or comes back */
  events: Publisher;
  pool: PrinterPool;
  /** a drawer pulse later than this after its tender is dropped: a drawer must not open by itself (default 60 s) */
  drawerFreshMs?: number;
}

/** One attempt as the job keeps it. */
export interface PrintAttempt extends Attempt {
  printedOn?: number;
  /** the job may have printed (bytes left, no acknowledgement): its next print says POSSIBLE DUPLICATE */
  mayHavePrinted?: boolean;
  possibleDuplicate?: boolean;
}

/**
 * Prints the outbox's 'print' topic: each row is a job of ./jobs.ts; its key, a printer, is that
 * printer's queue, printed in order by the outbox worker (which also retries, with backoff, on the
 * injected clock). One attempt:
 *
 * 1. the job is marked `sending` (committed) before a byte leaves: a crash from here on leaves it
 *    `sending`, and its next print says POSSIBLE DUPLICATE;
 * 2. the printer is its own, or its fallback once it has been failing for its failover time (the
 *    job then says BACKUP FROM <printer>, laid out again for the fallback's paper and code page,
 *    without the drawer pulse, which belongs to the first printer's drawer);
 * 3. a printer that says it is not ready (DLE EOT: paper out, cover open, offline) gets nothing:
 *    the job is not sent into a printer that would hold it;
 * 4. the job counts as printed on the printer's answer to `GS r 1` sent after its bytes (or on
 *    the write, for a printer set to no acknowledgement). A failure is an alert on the terminals.
 */
export function printTopic(o: PrintTopicOptions): TopicHandler<PrintAttempt> {
  const drawerFreshMs = o.drawerFreshMs ?? 60_000;
  /** when the failing printer of a failover was last tried (in memory: a restart tries it again) */
  const lastTried = new Map<number, number>();

  const printerRow = (id: number): Promise<PrinterRow | undefined> => o.db('printers').where({ id }).first();

  /** Whether a printer in failover should get this job: tried again once per failover time, if it says it is ready. */
  async function tryPrimary(p: PrinterRow, now: number): Promise<boolean> {
    const last = lastTried.get(p.id) ?? 0;
    if (now - last < p.failover_after_s * 1000) return false;
    lastTried.set(p.id, now);
    try {
      const s = await o.pool.status(p);
      return ready(s);
    } catch {
      return false;
    }
  }

  async function markDown(p: PrinterRow, message: string, now: Date) {
    await o.db('printers').where({ id: p.id }).update({ down_since: o.db.raw('coalesce(down_since, ?)', [now]), last_error: message });
    o.events.publish('printer:alert', { printerId: p.id, name: p.name, level: 'error', message: `${p.name} ${message}`, waiting: await waiting(p.id) });
  }

  async function markUp(p: PrinterRow) {
    if (p.down_since === null && p.last_error === null) return;
    await o.db('printers').where({ id: p.id }).update({ down_since: null, last_error: null });
    lastTried.delete(p.id);
    o.events.publish('printer:alert', { printerId: p.id, name: p.name, level: 'ok', message: `${p.name} is printing again.`, waiting: await waiting(p.id) });
  }

  const waiting = async (printerId: number) =>
    Number((await o.db('print_jobs').where({ printer_id: printerId }).whereNot({ state: 'printed' }).count<Array<{ n: string }>>('* as n'))[0]!.n);

  return {
    // DLE EOT, a connection, the longest job's acknowledgement; and the same on a fallback
    timeoutMs: 2 * (o.pool.statusTimeoutMs + o.pool.connectTimeoutMs + o.pool.ackTimeoutMs) + 5000,

    async deliver(row: OutboxRow, signal: AbortSignal): Promise<PrintAttempt> {
      const job: PrintJobRow | undefined = await o.db('print_jobs').where({ outbox_id: row.id }).first();
      if (!job || job.state === 'printed') return { error: null }; // moved to another queue, or printed before a crash
      const own = await printerRow(job.printer_id);
      if (!own) return { error: 'the printer was removed' };
      const now = o.clock.now();
      let target = own;
      if (own.fallback_printer_id && own.down_since && now.getTime() - own.down_since.getTime() >= own.failover_after_s * 1000 && !(await tryPrimary(own, now.getTime()))) {
        target = (await printerRow(own.fallback_printer_id)) ?? own;
      }
      const backup = target.id !== own.id;
      const possibleDuplicate = job.possible_duplicate || job.state === 'sending';
      const marks: JobMarks = {
        ...ownMarks(job),
        backupFrom: backup ? own.name : undefined,
        possibleDuplicate,
      };
      marks.drawer = marks.drawer && !backup && now.getTime() - job.created_at.getTime() <= drawerFreshMs;
      if (job.kind === 'drawer' && !marks.drawer) return { error: null }; // a late pulse: dropped, never opens a drawer by itself
      const same = !backup && !possibleDuplicate && marks.drawer === ownMarks(job).drawer && job.rendered_for === fingerprint(target);
      const bytes = same ? job.bytes : renderFor(job.input, target, marks);

      // 1. in flight from here: a crash leaves it 'sending'
      const claimed = await o.db('print_jobs').where({ id: job.id, outbox_id: row.id }).update({ state: 'sending', attempts: job.attempts + 1 });
      if (!claimed) return { error: null }; // moved meanwhile: its new row prints it

      // 3. a printer that says it is not ready gets nothing (one that cannot say, because it
      //    does not answer DLE EOT in time, gets the job: its acknowledgement decides)
      if (target.acknowledgement) {
        const s: PrinterStatus | Error = await untilAborted(o.pool.status(target), signal).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
        if (signal.aborted) return { error: 'stopped before the job was sent', mayHavePrinted: false, possibleDuplicate };
        if (!(s instanceof Error) && !ready(s)) {
          const why = notReadyText(s);
          await markDown(target, why, now);
          return { error: `${target.name} ${why}`, mayHavePrinted: false, possibleDuplicate };
        }
        if (s instanceof PrinterError && s.code === 'printer-unreachable') {
          const why = 'cannot be reached: check that it is on and connected.';
          await markDown(target, why, now);
          return { error: `${target.name} ${why}`, mayHavePrinted: false, possibleDuplicate };
        }
      }

      // 4. printed on its acknowledgement
      try {
        const sent = o.pool.send(target, bytes);
        sent.catch(() => undefined); // when aborted below, it ends on its own timeout
        await untilAborted(sent, signal);
      } catch (err) {
        const e = err instanceof PrinterError ? err : undefined;
        const why = signal.aborted ? 'did not confirm the job in time.'
          : e?.code === 'printer-unreachable' && !e.mayHavePrinted ? 'cannot be reached: check that it is on and connected.'
          : await whyNotPrinted(target);
        await markDown(target, why, o.clock.now());
        return { error: `${target.name} ${why}`, mayHavePrinted: e ? e.mayHavePrinted : true, possibleDuplicate };
      }
      await markUp(target);
      if (backup) o.log.info({ job: job.id, printer: own.name, fallback: target.name }, 'printing: a job printed on the fallback');
      return { error: null, printedOn: target.id, possibleDuplicate };
    },

    async record(trx: Trx, row: OutboxRow, attempt: Partial<PrintAttempt> & Attempt, at: Date): Promise<void> {
      const job = trx('print_jobs').where({ outbox_id: row.id });
      if (attempt.error === null) {
        await job.update({ state: 'printed', printed_on: attempt.printedOn ?? null, printed_at: at, last_error: null, possible_duplicate: attempt.possibleDuplicate ?? false });
        return;
      }
      // a failed attempt: a job whose bytes may have printed says so on its next print; an attempt
      // that threw (or timed out) may have sent bytes too
      const mayHave = attempt.mayHavePrinted ?? true;
      await job.update({
        state: 'queued', last_error: attempt.error,
        ...(mayHave || attempt.possibleDuplicate ? { possible_duplicate: true } : {}),
      });
    },
  };

  async function whyNotPrinted(p: PrinterRow): Promise<string> {
    try {
      const s = await o.pool.status(p);
      return ready(s) ? 'did not confirm the job: it may not have printed.' : notReadyText(s);
    } catch {
      return 'is not answering: check that it is on and connected.';
    }
  }
}

const ready = (s: PrinterStatus) => s.online && !s.paperOut && !s.coverOpen && !s.error;

function notReadyText(s: PrinterStatus): string {
  if (s.paperOut) return 'is out of paper: load a new roll.';
  if (s.coverOpen) return 'has its cover open: close it.';
  if (s.error) return 'reports an error: check the cutter and the paper path, then switch it off and on.';
  return 'is offline: check it.';
}
