import type { Clock } from '../clock';
import type { DbOrTrx, Trx } from '../db/knex';
import { writeAll, type Write } from '../db/write-all';
import { query } from '../db/direct';
import { entryHash } from './hash';

export type JournalKind = 'sale' | 'refund' | 'void' | 'z_closure';

export interface JournalEntry {
  seq: number;
  kind: JournalKind;
  at: string;
  prev_hash: string;
  hash: string;
  receipt_no?: number;
  z_no?: number;
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
}

export interface ChainHead {
  seq: number;
  hash: string;
  receipt_no: number;
  z_no: number;
  grand_sales: number;
  grand_refunds: number;
  grand_voids: number;
}

/**
 * Locks the chain-head row for the rest of the caller's transaction: every close in the store
 * waits for it, so take it last, and write with `nextEntry`'s writes right after.
 */
export async function lockChainHead(trx: Trx): Promise<ChainHead> {
  return (await query<ChainHead>(trx, 'select * from journal_head where id = 1 for update')).rows[0];
}

/**
 * `writes` (one `writeAll`) and then the chain head locked, in one statement: a sale's close
 * writes what does not need its receipt number and takes the head in one round trip. The head
 * stays locked from here until COMMIT, as with `lockChainHead`. Returns the rows of the write
 * named `select` and the head.
 */
export async function writeAllThenLockChainHead<T>(trx: Trx, writes: Write[], select: string): Promise<{ rows: T[]; head: ChainHead }> {
  const [row] = await writeAll<ChainHead & { x_selected: T[] }>(trx, writes, undefined, {
    final: `select h.*, (select coalesce(json_agg(sel), '[]') from ${select} sel) as x_selected from journal_head h where h.id = 1 for update of h`,
  });
  const { x_selected, ...head } = row;
  return { rows: x_selected, head };
}

/** The entry that follows `head`, and the writes that append it and move the head (one `writeAll`). */
export function nextEntry(head: ChainHead, clock: Clock, input: AppendInput): { entry: JournalEntry; writes: Write[] } {
  for (const k of ['sales', 'refunds', 'voids'] as const) {
    if ((input[k] ?? 0) < 0) throw new RangeError(`grand total ${k} only grows`);
  }
  const seq = head.seq + 1;
  const numbered = input.kind === 'z_closure' ? { z_no: head.z_no + 1 } : { receipt_no: head.receipt_no + 1 };
  const grand_totals = {
    sales: head.grand_sales + (input.sales ?? 0),
    refunds: head.grand_refunds + (input.refunds ?? 0),
    voids: head.grand_voids + (input.voids ?? 0),
  };
  const body: Record<string, unknown> = {
    ...input.record,
    seq,
    kind: input.kind,
    at: clock.now().toISOString(),
    ...numbered,
    grand_totals,
    prev_hash: head.hash,
  };
  const hash = entryHash(body);
  const entry = { ...body, hash } as JournalEntry;
  return {
    entry,
    writes: [
      {
        sql: 'insert into journal (seq, kind, prev_hash, hash, entry, created_at) values (?, ?, ?, ?, ?::jsonb, ?)',
        bindings: [seq, input.kind, head.hash, hash, JSON.stringify(entry), clock.now()],
      },
      {
        sql: 'update journal_head set seq = ?, hash = ?, receipt_no = ?, z_no = ?, grand_sales = ?, grand_refunds = ?, grand_voids = ? where id = 1',
        bindings: [seq, hash, entry.receipt_no ?? head.receipt_no, entry.z_no ?? head.z_no, grand_totals.sales, grand_totals.refunds, grand_totals.voids],
      },
    ],
  };
}

/**
 * Appends one entry inside the caller's transaction. The chain-head row is locked first, so two
 * appends can never fork the chain, and seq / receipt numbers have no holes even when a
 * transaction rolls back (the head's update rolls back with it).
 */
export async function appendEntry(trx: Trx, clock: Clock, input: AppendInput): Promise<JournalEntry> {
  const { entry, writes } = nextEntry(await lockChainHead(trx), clock, input);
  await writeAll(trx, writes);
  return entry;
}

export async function listEntries(db: DbOrTrx, afterSeq: number, limit: number): Promise<JournalEntry[]> {
  const rows = await db('journal').where('seq', '>', afterSeq).orderBy('seq').limit(limit).select('entry');
  return rows.map((r: { entry: JournalEntry }) => r.entry);
}
