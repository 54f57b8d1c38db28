import type { Clock } from '../clock';
import { inTransaction, type Db, type DbOrTrx, type Trx } from '../db/knex';
import { notFound, unprocessable } from '../errors';
import type { Publisher } from '../events';
import { enqueue, lockKeys } from '../outbox/outbox';
import type { JobInput, JobMarks } from './layouts';
import { fingerprint, renderFor, type PrinterRow } from './render';

/** The outbox topic of print jobs (delivered by ./topic.ts), one ordering key per printer: its queue. */
export const PRINT_TOPIC = 'print';
export const printerKey = (printerId: number) => String(printerId);

export type JobState = 'queued' | 'sending' | 'printed';

export interface PrintJobRow {
  id: number;
  printer_id: number;
  kind: JobInput['kind'];
  input: JobInput;
  bytes: Buffer;
  rendered_for: string;
  state: JobState;
  possible_duplicate: boolean;
  printed_on: number | null;
  order_id: number | null;
  reprint_of: number | null;
  attempts: number;
  last_error: string | null;
  outbox_id: number;
  created_at: Date;
  printed_at: Date | null;
}

/** What a job prints with when it prints on its own printer, on time: the marks its stored bytes carry. */
export function ownMarks(job: Pick<PrintJobRow, 'input' | 'reprint_of'>): JobMarks {
  const drawer = job.input.kind === 'drawer' || (job.input.kind === 'receipt' && job.input.drawer);
  return { drawer, reprint: job.reprint_of !== null };
}

export interface QueueOptions {
  orderId?: number | null;
  reprintOf?: number | null;
  /** told `outbox:written` (inside the caller's transaction: callers' publishers hold it until their commit) */
  events?: Publisher;
}

/**
 * Queues one job on a printer inside the caller's transaction: rendered to bytes for that printer
 * now (its layout input kept beside them), written with its outbox row (topic 'print', the
 * printer's key), so the job exists if and only if the change it follows commits, and prints
 * after the commit in the printer's order. No device I/O here.
 */
export async function queueJob(trx: Trx, clock: Clock, printer: PrinterRow, input: JobInput, opts: QueueOptions = {}): Promise<number> {
  const marks = ownMarks({ input, reprint_of: opts.reprintOf ?? null });
  const bytes = renderFor(input, printer, marks);
  const [outboxId] = await enqueue(trx, clock, [{ topic: PRINT_TOPIC, key: printerKey(printer.id), payload: { kind: input.kind } }]);
  const [job] = await trx('print_jobs')
    .insert({
      printer_id: printer.id, kind: input.kind, input: JSON.stringify(input), bytes, rendered_for: fingerprint(printer),
      order_id: opts.orderId ?? null, reprint_of: opts.reprintOf ?? null, outbox_id: outboxId, created_at: clock.now(),
    })
    .returning('id');
  opts.events?.publish('outbox:written', { topic: PRINT_TOPIC });
  return job.id;
}

export async function getJob(db: DbOrTrx, id: number): Promise<PrintJobRow> {
  const job: PrintJobRow | undefined = await db('print_jobs').where({ id }).first();
  if (!job) throw notFound('That print job');
  return job;
}

export interface QueueView {
  /** not printed yet, in the order they will print */
  waiting: PrintJobRow[];
  /** the last printed, newest first */
  recent: PrintJobRow[];
}

const JOB_COLUMNS = ['id', 'printer_id', 'kind', 'input', 'rendered_for', 'state', 'possible_duplicate', 'printed_on', 'order_id', 'reprint_of', 'attempts', 'last_error', 'outbox_id', 'created_at', 'printed_at'];

/** A printer's queue: what waits (in order) and what printed last. Bytes are left out. */
export async function printerQueue(db: DbOrTrx, printerId: number, recent = 10): Promise<QueueView> {
  const waiting = await db('print_jobs').where({ printer_id: printerId }).whereNot({ state: 'printed' }).orderBy('id').select(JOB_COLUMNS);
  const done = await db('print_jobs').where({ printer_id: printerId, state: 'printed' }).orderBy('id', 'desc').limit(recent).select(JOB_COLUMNS);
  return { waiting, recent: done };
}

/** How many jobs wait on each printer. */
export async function waitingCounts(db: DbOrTrx): Promise<Map<number, number>> {
  const rows: Array<{ printer_id: number; n: number }> = await db('print_jobs').whereNot({ state: 'printed' }).groupBy('printer_id').select('printer_id').count<Array<{ printer_id: number; n: number }>>('* as n');
  return new Map(rows.map((r) => [Number(r.printer_id), Number(r.n)]));
}

/**
 * Prints a job again, as a new job on the same printer: a receipt says DUPLICATE, any other slip
 * REPRINT; a drawer pulse is never repeated.
 */
export async function reprintJob(deps: { db: Db; clock: Clock; events: Publisher }, jobId: number): Promise<number> {
  const id = await inTransaction(deps.db, async (trx) => {
    const job = await getJob(trx, jobId);
    if (job.kind === 'drawer') throw unprocessable('A drawer pulse is not printed again.', 'not-reprintable');
    const printer: PrinterRow = await trx('printers').where({ id: job.printer_id }).first();
    const input: JobInput = job.input.kind === 'receipt' || job.input.kind === 'refund' ? { ...job.input, duplicate: true, ...(job.input.kind === 'receipt' ? { drawer: false } : {}) } : job.input;
    return queueJob(trx, deps.clock, printer, input, { orderId: job.order_id, reprintOf: job.id });
  });
  deps.events.publish('outbox:written', { topic: PRINT_TOPIC });
  return id;
}

/**
 * Moves every job waiting on one printer to the end of another's queue, in their order (a printer
 * that broke for the day: its chits go to the bar's). A job in flight when moved may print on
 * both: it is marked a possible duplicate.
 */
export async function moveQueue(deps: { db: Db; clock: Clock; events: Publisher }, fromId: number, toId: number): Promise<number> {
  if (fromId === toId) throw unprocessable('Choose another printer to move the jobs to.', 'same-printer');
  const moved = await inTransaction(deps.db, async (trx) => {
    const printers: PrinterRow[] = await trx('printers').whereIn('id', [fromId, toId]).forUpdate();
    const to = printers.find((p) => p.id === toId);
    if (!printers.some((p) => p.id === fromId)) throw notFound('That printer');
    if (!to) throw notFound('The printer to move to');
    await lockKeys(trx, [{ topic: PRINT_TOPIC, key: printerKey(fromId) }, { topic: PRINT_TOPIC, key: printerKey(toId) }]);
    // a drawer pulse stays: it opens that printer's drawer or none (./topic.ts drops a late one)
    const jobs: PrintJobRow[] = await trx('print_jobs').where({ printer_id: fromId }).whereNot({ state: 'printed' }).whereNot({ kind: 'drawer' }).orderBy('id').forUpdate();
    if (!jobs.length) return 0;
    const outboxIds = await enqueue(trx, deps.clock, jobs.map((j) => ({ topic: PRINT_TOPIC, key: printerKey(toId), payload: { kind: j.kind, movedFrom: fromId } })));
    for (const [i, j] of jobs.entries()) {
      await trx('print_jobs').where({ id: j.id }).update({
        printer_id: toId, outbox_id: outboxIds[i], possible_duplicate: j.possible_duplicate || j.state === 'sending', state: 'queued',
        // the printer's bytes, and no drawer pulse from another printer's drawer
        input: JSON.stringify(j.input.kind === 'receipt' ? { ...j.input, drawer: false } : j.input),
        bytes: renderFor(j.input.kind === 'receipt' ? { ...j.input, drawer: false } : j.input, to, { reprint: j.reprint_of !== null }), rendered_for: fingerprint(to),
      });
    }
    // the old rows go after the jobs left them (they cascade to what points at them)
    await trx('outbox').whereIn('id', jobs.map((j) => j.outbox_id)).where({ state: 'pending' }).delete();
    return jobs.length;
  });
  deps.events.publish('outbox:written', { topic: PRINT_TOPIC });
  return moved;
}
