/**
 * What keeping this journal in step with a copy elsewhere (the cloud ledger, server/ledger/)
 * needs from the journal: its one line form, where the chain stands, one entry's hash, and taking
 * entries back that were made here before a restore.
 */
import type { DbOrTrx, Trx } from '../db/knex';
import { RECEIPT_KINDS, type JournalEntry } from './append';
import { entryHash } from './hash';

/**
 * The entry's one JSON form (ARCHITECTURE, "Numbering and the journal"): a line of
 * `journal.ndjson` and of a ledger batch, as the journal API (/api/v1/journal) gives it: the
 * entry as the journal returns it (listEntries), serialised by JSON.stringify. The journal's
 * jsonb keeps its keys in one order, so the same entry is the same line wherever it is read. The
 * hash does not depend on it: it is taken over the RFC 8785 form (./hash.ts).
 */
export function entryLine(entry: Record<string, unknown>): string {
  return JSON.stringify(entry);
}

export class AdoptError extends Error {
  constructor(readonly seq: number, message: string) {
    super(message);
    this.name = 'AdoptError';
  }
}

/**
 * Appends entries that were made elsewhere and come back to this journal as they are: those the
 * cloud ledger holds beyond a journal restored from an older backup (server/ledger/). Inside the
 * caller's transaction, with the chain head locked as appendEntry locks it, each entry must be
 * the next link: seq one on, prev_hash the head's hash, its hash recomputed by the one rule
 * (./hash.ts), its receipt or Z number the next one, its grand totals not smaller. The head then
 * stands on the last, so the next receipt number follows the ledger's last. The first entry that
 * is not the next link throws AdoptError and the caller's transaction adopts none of them.
 */
export async function adoptEntries(trx: Trx, entries: readonly JournalEntry[]): Promise<number> {
  if (!entries.length) return 0;
  const head = await trx('journal_head').where({ id: 1 }).forUpdate().first();
  if (!head) throw new Error('the journal has no chain head (migrations not run?)');
  let { seq, hash, receipt_no: receiptNo, z_no: zNo, grand_sales: sales, grand_refunds: refunds, grand_voids: voids } = head as Record<string, number> & { hash: string };
  const rows = [];
  for (const e of entries) {
    const fail = (why: string) => new AdoptError(e.seq, `entry ${String(e.seq)}: ${why}`);
    if (e.seq !== seq + 1) throw fail(`expected seq ${seq + 1}`);
    if (e.prev_hash !== hash) throw fail(`its prev_hash is not the hash of entry ${seq}`);
    if (typeof e.hash !== 'string' || entryHash(e) !== e.hash) throw fail('its hash does not match its content');
    if (typeof e.at !== 'string' || Number.isNaN(Date.parse(e.at))) throw fail('it has no time');
    if (e.kind === 'z_closure') {
      if (e.z_no !== zNo + 1) throw fail(`expected Z number ${zNo + 1}`);
      zNo++;
    } else if (RECEIPT_KINDS.has(e.kind)) { // paid in / out and no sale take no receipt number
      if (e.receipt_no !== receiptNo + 1) throw fail(`expected receipt number ${receiptNo + 1}`);
      receiptNo++;
    }
    const g = e.grand_totals;
    if (!g || !(g.sales >= sales && g.refunds >= refunds && g.voids >= voids)) throw fail('its grand totals go down');
    ({ sales, refunds, voids } = g);
    seq = e.seq;
    hash = e.hash;
    rows.push({ seq: e.seq, kind: e.kind, prev_hash: e.prev_hash, hash: e.hash, entry: JSON.stringify(e), created_at: new Date(e.at) });
  }
  for (let i = 0; i < rows.length; i += 1000) await trx('journal').insert(rows.slice(i, i + 1000));
  await trx('journal_head').where({ id: 1 }).update({ seq, hash, receipt_no: receiptNo, z_no: zNo, grand_sales: sales, grand_refunds: refunds, grand_voids: voids });
  return rows.length;
}

/** Where the chain stands: the last seq and its hash (0 and 64 zeros when empty). */
export async function journalHead(db: DbOrTrx): Promise<{ seq: number; hash: string }> {
  const head = await db('journal_head').where({ id: 1 }).first('seq', 'hash');
  if (!head) throw new Error('the journal has no chain head (migrations not run?)');
  return { seq: head.seq, hash: head.hash };
}

/** One entry's hash and when it was written here; undefined past the head. */
export async function entryAt(db: DbOrTrx, seq: number): Promise<{ seq: number; hash: string; createdAt: Date } | undefined> {
  const row = await db('journal').where({ seq }).first('seq', 'hash', 'created_at');
  return row ? { seq: row.seq, hash: row.hash, createdAt: row.created_at } : undefined;
}
