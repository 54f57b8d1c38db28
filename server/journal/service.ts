import type { Clock } from '../clock';
import type { DbOrTrx, Trx } from '../db/knex';
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

/**
 * Appends one entry inside the caller's transaction. The chain-head row is locked first, so two
 * appends can never fork the chain, and seq / receipt numbers have no holes even when a
 * transaction rolls back (the head's update rolls back with it).
 */
export async function appendEntry(trx: Trx, clock: Clock, input: AppendInput): Promise<JournalEntry> {
  for (const k of ['sales', 'refunds', 'voids'] as const) {
    if ((input[k] ?? 0) < 0) throw new RangeError(`grand total ${k} only grows`);
  }
  const head = await trx('journal_head').where({ id: 1 }).forUpdate().first();
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
  await trx('journal').insert({ seq, kind: input.kind, prev_hash: head.hash, hash, entry: JSON.stringify(entry), created_at: clock.now() });
  await trx('journal_head')
    .where({ id: 1 })
    .update({
      seq,
      hash,
      receipt_no: entry.receipt_no ?? head.receipt_no,
      z_no: entry.z_no ?? head.z_no,
      grand_sales: grand_totals.sales,
      grand_refunds: grand_totals.refunds,
      grand_voids: grand_totals.voids,
    });
  return entry;
}

export async function listEntries(db: DbOrTrx, afterSeq: number, limit: number): Promise<JournalEntry[]> {
  const rows = await db('journal').where('seq', '>', afterSeq).orderBy('seq').limit(limit).select('entry');
  return rows.map((r: { entry: JournalEntry }) => r.entry);
}
