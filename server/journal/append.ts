import type { Clock } from '../clock';
import type { Trx } from '../db/knex';
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
  const next = {
    seq: head.seq + 1,
    receipt_no: head.receipt_no + (z ? 0 : 1),
    z_no: head.z_no + (z ? 1 : 0),
    grand_sales: head.grand_sales + adds.sales,
    grand_refunds: head.grand_refunds + adds.refunds,
    grand_voids: head.grand_voids + adds.voids,
  };
  const at = clock.now();
  const unhashed = {
    ...input.record,
    seq: next.seq,
    kind: input.kind,
    at: at.toISOString(),
    ...(z ? { z_no: next.z_no } : { receipt_no: next.receipt_no }),
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
