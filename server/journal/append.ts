import type { Clock } from '../clock';
import type { DbOrTrx, Trx } from '../db/knex';
import { addDays, businessDate } from '../business-date';
import { DEFAULT_SETTINGS } from '../settings/schema';
import { entryHash } from './hash';

export type JournalKind = 'sale' | 'refund' | 'void' | 'paid_in' | 'paid_out' | 'no_sale' | 'z_closure';

/** The kinds that take the next gapless receipt number; a Z takes a Z number, cash movements neither. */
export const RECEIPT_KINDS: ReadonlySet<JournalKind> = new Set<JournalKind>(['sale', 'refund', 'void']);

export interface JournalEntry {
  seq: number;
  kind: JournalKind;
  at: string;
  prev_hash: string;
  hash: string;
  receipt_no?: number;
  z_no?: number;
  /** the business date the entry counts on (ARCHITECTURE, "Numbering and the journal"); entries written before it existed lack it */
  business_date?: string;
  grand_totals: { sales: number; refunds: number; voids: number };
  [key: string]: unknown;
}

export interface AppendInput {
  kind: JournalKind;
  /** what happened; the record must be complete, the journal is the only copy that cannot change */
  record: Record<string, unknown>;
  /** adds to the running grand totals (each only grows) */
  sales?: number;
  refunds?: number;
  voids?: number;
  /** a Z closure names the business date it closes (the open one when not given); every other entry counts on the open business date */
  businessDate?: string;
}

interface HeadRow {
  seq: number;
  hash: string;
  receipt_no: number;
  z_no: number;
  grand_sales: number;
  grand_refunds: number;
  grand_voids: number;
}

/**
 * Appends one entry inside the caller's transaction (ARCHITECTURE, "Numbering and the journal"):
 *
 * 1. the chain-head row is locked (FOR UPDATE): two appends can never fork the chain, and seq and
 *    receipt / Z numbers have no holes, because a transaction that rolls back gives its numbers
 *    back with its lock;
 * 2. the entry is built from the head: the next seq and number, the grand totals moved on, the
 *    head's hash as prev_hash;
 * 3. it is hashed by `entryHash` (journal/hash.ts), the one function every verifier uses;
 * 4. it is inserted and the head moved to it.
 *
 * The head stays locked until the caller commits: appends are serialised, which is the point.
 */
export async function appendEntry(trx: Trx, clock: Clock, input: AppendInput): Promise<JournalEntry> {
  const adds = { sales: input.sales ?? 0, refunds: input.refunds ?? 0, voids: input.voids ?? 0 };
  for (const [k, v] of Object.entries(adds)) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`grand total ${k} only grows`);
  }
  const head: HeadRow | undefined = await trx('journal_head').where({ id: 1 }).forUpdate().first();
  if (!head) throw new Error('the journal has no chain head (migrations not run?)');
  const z = input.kind === 'z_closure';
  const receipted = RECEIPT_KINDS.has(input.kind);
  if (!z && input.businessDate !== undefined) throw new TypeError('only a Z closure names the business date it counts on');
  const at = clock.now();
  const date = input.businessDate ?? (await openBusinessDate(trx, at));
  const next = {
    seq: head.seq + 1,
    receipt_no: head.receipt_no + (receipted ? 1 : 0),
    z_no: head.z_no + (z ? 1 : 0),
    grand_sales: head.grand_sales + adds.sales,
    grand_refunds: head.grand_refunds + adds.refunds,
    grand_voids: head.grand_voids + adds.voids,
  };
  const unhashed = {
    ...input.record,
    seq: next.seq,
    kind: input.kind,
    at: at.toISOString(),
    business_date: date,
    ...(z ? { z_no: next.z_no } : receipted ? { receipt_no: next.receipt_no } : {}),
    grand_totals: { sales: next.grand_sales, refunds: next.grand_refunds, voids: next.grand_voids },
    prev_hash: head.hash,
  };
  const hash = entryHash(unhashed);
  // the entry's one JSON form: what is stored is what the caller gets back
  const json = JSON.stringify({ ...unhashed, hash });
  await trx('journal').insert({ seq: next.seq, kind: input.kind, prev_hash: head.hash, hash, entry: json, created_at: at });
  await trx('journal_head').where({ id: 1 }).update({ ...next, hash });
  return JSON.parse(json) as JournalEntry;
}

/** The business date of the last Z closure, if any (read through the partial index on Z entries). */
export async function lastZDate(db: DbOrTrx): Promise<string | null> {
  const row = await db('journal').where({ kind: 'z_closure' }).orderBy('seq', 'desc').first(db.raw("entry->>'business_date' as business_date"));
  return (row?.business_date as string | undefined) ?? null;
}

/**
 * The business date an entry written at `at` counts on: the store-local date of (at − the
 * business-day start), or the day after the last Z when that date is already closed (a sale
 * after the Z counts on the next business date). One round trip: the two settings it needs and
 * the last Z's date (through the partial index on Z entries).
 */
export async function openBusinessDate(db: DbOrTrx, at: Date): Promise<string> {
  const [row] = (await db.raw(
    `select (select value from settings where key = 'timezone') as tz, (select value from settings where key = 'businessDayStart') as start,
       (select entry->>'business_date' from journal where kind = 'z_closure' order by seq desc limit 1) as z`,
  )).rows as Array<{ tz: string | null; start: string | null; z: string | null }>;
  const byClock = businessDate(at, row.tz ?? DEFAULT_SETTINGS.timezone, row.start ?? DEFAULT_SETTINGS.businessDayStart);
  return row.z !== null && row.z >= byClock ? addDays(row.z, 1) : byClock;
}
