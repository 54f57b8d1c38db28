import type { Clock } from '../clock';
import { inTransaction, type Db, type DbOrTrx } from '../db/knex';
import { conflict, invalid, unprocessable } from '../errors';
import type { Publisher } from '../events';
import { appendEntry, lastZDate, openBusinessDate, type JournalEntry } from '../journal/service';
import { PRINT_TOPIC, queueDayReport } from '../printing/service';
import { getSettings } from '../settings/service';
import { formatMoney } from '../money';
import { dayTotals, type DayTotals } from './day-totals';

export interface CloseDeps {
  db: Db;
  clock: Clock;
  events: Publisher;
  /** the cloud ledger's shipper: a Z is shipped at once (server/ledger/) */
  ledger?: { shipNow(): Promise<void> };
  log?: { warn(obj: object, msg: string): void };
}

export interface CloseActor {
  staffId?: number | null;
  staffName?: string | null;
  terminalId?: number | null;
  terminal?: string | null;
}

export type ZRecord = DayTotals & {
  /** the open checks the day left: they carry over and count on the day they close */
  carried_over: { count: number; total: number };
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Checks left open now: they carry over the Z to the next business day. */
async function openChecks(db: DbOrTrx): Promise<{ count: number; total: number }> {
  const [r] = await db('orders').whereRaw("status = 'open'").select(db.raw('count(*)::int as n'), db.raw('coalesce(sum(total), 0)::bigint as total'));
  return { count: Number(r.n), total: Number(r.total) };
}

/**
 * The business date a Z would close now: the oldest date with entries since the last Z, or the
 * open business date when the journal has nothing since.
 */
export async function dayToClose(db: DbOrTrx, clock: Clock): Promise<{ date: string; lastZ: string | null }> {
  const lastZ = await lastZDate(db);
  const lastZSeq = await db('journal').where({ kind: 'z_closure' }).max('seq as s').first();
  const [oldest] = (await db.raw(
    "select min(entry->>'business_date') as d from journal where seq > ? and kind <> 'z_closure' and entry->>'business_date' is not null",
    [Number(lastZSeq?.s ?? 0)],
  )).rows as Array<{ d: string | null }>;
  return { date: oldest?.d && (!lastZ || oldest.d > lastZ) ? oldest.d : await openBusinessDate(db, clock.now()), lastZ };
}

/**
 * Z closure: ends a business day. In one transaction, with the journal's head locked (so no entry
 * slips in between the sums and the Z): the day is checked to be the next one to close, its
 * totals are summed from its journal entries, and the Z entry is appended with the next gapless Z
 * number and the running grand totals. A day already closed is refused (409 z-done); open checks
 * do not block it: they carry over. Every entry after it counts on the next business day. The Z
 * prints on the terminal's receipt printer and is shipped to the cloud ledger after the commit.
 */
export async function closeDay(deps: CloseDeps, actor: CloseActor, input: { businessDate?: string; idempotencyKey: string }): Promise<{ entry: JournalEntry; replayed: boolean }> {
  if (input.businessDate !== undefined && !DATE.test(input.businessDate)) throw invalid('Give the business day as YYYY-MM-DD.', [{ field: 'businessDate', message: 'YYYY-MM-DD' }]);
  const out = await inTransaction(deps.db, async (trx) => {
    await trx('journal_head').where({ id: 1 }).forUpdate().first('seq');
    const [prior] = (await trx.raw("select entry from journal where kind = 'z_closure' and entry->>'idempotency_key' = ? limit 1", [input.idempotencyKey])).rows as Array<{ entry: JournalEntry }>;
    if (prior) return { entry: prior.entry, replayed: true };
    const { date: next, lastZ } = await dayToClose(trx, deps.clock);
    const date = input.businessDate ?? next;
    if (lastZ !== null && date <= lastZ) throw conflict(`Business day ${date} is already closed: a Z cannot be done again.`, 'z-done');
    if (date > (await openBusinessDate(trx, deps.clock.now()))) throw unprocessable(`Business day ${date} has not begun yet.`, 'day-not-begun');
    if (date > next) throw conflict(`Business day ${next} is still open: close it first.`, 'earlier-day-open');
    const totals = await dayTotals(trx, date);
    const record: ZRecord & { idempotency_key: string; staff: object | null; terminal: string | null; currency: string } = {
      ...totals,
      carried_over: await openChecks(trx),
      currency: (await getSettings(trx)).currency,
      idempotency_key: input.idempotencyKey,
      staff: actor.staffId ? { id: actor.staffId, name: actor.staffName ?? null } : null,
      terminal: actor.terminal ?? null,
    };
    const entry = await appendEntry(trx, deps.clock, { kind: 'z_closure', record, businessDate: date });
    const printed = await queueDayReport(trx, deps.clock, actor.terminalId, {
      title: `Z REPORT ${entry.z_no}`, businessDate: date, staff: actor.staffName ?? null, at: entry.at, rows: reportRows(totals, record.carried_over, entry.grand_totals),
    });
    return { entry, replayed: false, printed: printed !== null };
  });
  if (!out.replayed) {
    if ('printed' in out && out.printed) deps.events.publish('outbox:written', { topic: PRINT_TOPIC });
    // the Z goes to the cloud ledger now, not at the next interval; a ledger that is down is retried by the shipper
    deps.ledger?.shipNow().catch((err: unknown) => deps.log?.warn({ err }, 'ledger: shipping after the Z failed; the shipper retries'));
  }
  return { entry: out.entry, replayed: out.replayed };
}

/** The X report: the open business day's totals so far; nothing is written or reset. */
export async function xReport(db: DbOrTrx, clock: Clock): Promise<{ totals: DayTotals; carried: { count: number; total: number }; date: string }> {
  const date = await openBusinessDate(db, clock.now());
  return { date, totals: await dayTotals(db, date), carried: await openChecks(db) };
}

/** Prints the X report on the terminal's receipt printer. */
export async function printX(deps: CloseDeps, actor: CloseActor): Promise<boolean> {
  const printed = await inTransaction(deps.db, async (trx) => {
    const x = await xReport(trx, deps.clock);
    const id = await queueDayReport(trx, deps.clock, actor.terminalId, { title: 'X REPORT', businessDate: x.date, staff: actor.staffName ?? null, at: deps.clock.now().toISOString(), rows: reportRows(x.totals, x.carried) });
    if (id === null) throw unprocessable('This terminal has no receipt printer: use Print on the screen.', 'no-receipt-printer');
    return true;
  });
  deps.events.publish('outbox:written', { topic: PRINT_TOPIC });
  return printed;
}

/** The printed rows of an X or Z (amounts in minor units; the slip formats them). */
export function reportRows(t: DayTotals, carried: { count: number; total: number }, grand?: { sales: number; refunds: number; voids: number }) {
  const rows: Array<{ label: string; amount?: number; text?: string; rule?: boolean; bold?: boolean }> = [
    { label: `Sales (${t.sales.count})`, amount: t.sales.gross },
    { label: 'Discounts', amount: -t.sales.discounts },
    { label: 'Sales total', amount: t.sales.total, bold: true },
    { label: `Refunds (${t.refunds.count})`, amount: -t.refunds.total },
    { label: 'Net', amount: t.net, bold: true },
    ...t.taxes.map((x) => ({ label: `Tax ${x.name}`, amount: x.tax })),
    { label: 'Tenders', text: '', rule: true },
    ...t.tenders.map((x) => ({ label: `${x.method} (${x.count})`, amount: x.amount })),
    ...t.refund_tenders.map((x) => ({ label: `${x.method} refunded (${x.count})`, amount: -x.amount })),
    { label: 'Tips', amount: t.tips },
    { label: `Voids (${t.voids.count})`, amount: t.voids.total, rule: true },
    { label: `Paid in (${t.paid_in.count})`, amount: t.paid_in.total },
    { label: `Paid out (${t.paid_out.count})`, amount: -t.paid_out.total },
    { label: 'No sales', text: String(t.no_sales.count) },
    { label: `Open checks carried (${carried.count})`, amount: carried.total },
  ];
  if (grand) rows.push({ label: 'Grand total sales', amount: grand.sales, rule: true }, { label: 'Grand total refunds', amount: grand.refunds }, { label: 'Grand total voids', amount: grand.voids });
  return rows;
}

/** The same rows as text, for a page or a CSV. */
export function reportText(rows: ReturnType<typeof reportRows>, currency: string) {
  return rows.map((r) => ({ label: r.label, value: r.amount !== undefined ? formatMoney(r.amount, currency) : r.text ?? '', bold: !!r.bold, rule: !!r.rule }));
}
