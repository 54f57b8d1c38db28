import type { Clock } from '../clock';
import type { DbOrTrx, Trx } from '../db/knex';
import { writeAll, type Write } from '../db/write-all';
import crypto from 'node:crypto';
import { canonicalJson } from './hash';
import { merged } from '../merge';

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
 * Appends one entry as parts of one statement (`writeAll`), so that the chain-head row is held
 * only while PostgreSQL runs that statement and its COMMIT, never across a round trip to this
 * server (whose event loop, busy at rush hour, would hold every close in the store behind it):
 *
 * - `jhead` locks the head row (FOR UPDATE: two appends can never fork the chain, and seq and
 *   receipt numbers have no holes even when a transaction rolls back);
 * - `jentry` is the new entry: its numbers from the head, its canonical JSON (RFC 8785) and
 *   `hash = hex(SHA-256(prev_hash + canonical))`, ARCHITECTURE's rule, computed by PostgreSQL.
 *   The canonical text is made here by `canonicalJson` with stand-ins for the values that come
 *   from the head; PostgreSQL puts those in (integers as plain digits, as RFC 8785 writes them;
 *   the previous hash as a JSON string of hex digits), so the text is the one `canonicalJson`
 *   gives for the finished entry and `verifyJournal` checks it the same way;
 * - the entry inserted and the head moved.
 *
 * Later parts of the same statement read the entry from `jentry` (seq, receipt_no, z_no, hash).
 * `entryOf` turns the statement's `jentry` row back into the entry.
 */
export function appendParts(
  clock: Clock,
  input: AppendInput,
  /** a condition over earlier parts of the statement: without it, nothing is appended (and the head is not taken) */
  onlyIf?: string,
): { parts: Write[]; entryOf(row: { canonical: string; hash: string }): JournalEntry } {
  for (const k of ['sales', 'refunds', 'voids'] as const) {
    const v = input[k] ?? 0;
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`grand total ${k} only grows`);
  }
  const z = input.kind === 'z_closure';
  // stand-ins no record can contain: a fresh random token each time
  const token = crypto.randomBytes(16).toString('hex');
  const stand = (name: string) => `\u0000${name}:${token}`;
  const slots: Record<string, { stand: string; sql: string }> = {
    seq: { stand: stand('seq'), sql: 'jnext.seq::text' },
    no: { stand: stand('no'), sql: z ? 'jnext.z_no::text' : 'jnext.receipt_no::text' },
    sales: { stand: stand('sales'), sql: 'jnext.grand_sales::text' },
    refunds: { stand: stand('refunds'), sql: 'jnext.grand_refunds::text' },
    voids: { stand: stand('voids'), sql: 'jnext.grand_voids::text' },
    prev: { stand: stand('prev'), sql: `'"' || jnext.prev_hash || '"'` },
  };
  const at = clock.now();
  const body: Record<string, unknown> = {
    ...input.record,
    seq: slots.seq.stand,
    kind: input.kind,
    at: at.toISOString(),
    [z ? 'z_no' : 'receipt_no']: slots.no.stand,
    grand_totals: { sales: slots.sales.stand, refunds: slots.refunds.stand, voids: slots.voids.stand },
    prev_hash: slots.prev.stand,
  };
  const text = canonicalJson(body);
  // the canonical text around the stand-ins (each serialised as a JSON string, quotes included)
  const found = Object.values(slots)
    .map((slot) => {
      const quoted = JSON.stringify(slot.stand);
      const at = text.indexOf(quoted);
      if (at < 0 || text.indexOf(quoted, at + 1) >= 0) throw new Error('journal entry: a stand-in is missing or repeated');
      return merged(slot, { at, len: quoted.length });
    })
    .sort((a, b) => a.at - b.at);
  const chunks: string[] = [];
  let from = 0;
  for (const f of found) {
    chunks.push(text.slice(from, f.at));
    from = f.at + f.len;
  }
  chunks.push(text.slice(from));
  const canonicalSql = chunks.map((_, i) => (i < found.length ? `?::text || ${found[i].sql} || ` : '?::text')).join('');
  return {
    parts: [
      { name: 'jhead', sql: `select * from journal_head where id = 1${onlyIf ? ` and ${onlyIf}` : ''} for update`, bindings: [] },
      {
        name: 'jnext',
        sql: `select jhead.seq + 1 as seq, jhead.receipt_no + ?::bigint as receipt_no, jhead.z_no + ?::bigint as z_no,
                jhead.grand_sales + ?::bigint as grand_sales, jhead.grand_refunds + ?::bigint as grand_refunds,
                jhead.grand_voids + ?::bigint as grand_voids, jhead.hash as prev_hash from jhead`,
        bindings: [z ? 0 : 1, z ? 1 : 0, input.sales ?? 0, input.refunds ?? 0, input.voids ?? 0],
      },
      { name: 'jcanon', sql: `select jnext.*, ${canonicalSql} as canonical from jnext`, bindings: chunks },
      { name: 'jentry', sql: `select jcanon.*, encode(sha256(convert_to(jcanon.prev_hash || jcanon.canonical, 'UTF8')), 'hex') as hash from jcanon`, bindings: [] },
      {
        sql: `insert into journal (seq, kind, prev_hash, hash, entry, created_at)
              select jentry.seq, ?::text, jentry.prev_hash, jentry.hash, jentry.canonical::jsonb || jsonb_build_object('hash', jentry.hash), ?::timestamptz from jentry`,
        bindings: [input.kind, at],
      },
      {
        sql: `update journal_head set seq = jentry.seq, hash = jentry.hash, receipt_no = jentry.receipt_no, z_no = jentry.z_no,
                grand_sales = jentry.grand_sales, grand_refunds = jentry.grand_refunds, grand_voids = jentry.grand_voids
              from jentry where journal_head.id = 1`,
        bindings: [],
      },
    ],
    entryOf: (row) => ({ ...JSON.parse(row.canonical), hash: row.hash }) as JournalEntry,
  };
}

/** The statement's last part: the new entry (see appendParts), for `writeAll`'s `final`. */
export const ENTRY_ROW = 'jentry.seq, jentry.receipt_no, jentry.z_no, jentry.hash, jentry.canonical';

/**
 * Appends one entry inside the caller's transaction, in one statement (appendParts): the head
 * stays locked from there until the caller's COMMIT.
 */
export async function appendEntry(trx: Trx, clock: Clock, input: AppendInput): Promise<JournalEntry> {
  const { parts, entryOf } = appendParts(clock, input);
  const [row] = await writeAll<{ canonical: string; hash: string }>(trx, parts, undefined, { final: `select ${ENTRY_ROW} from jentry` });
  return entryOf(row);
}

export async function listEntries(db: DbOrTrx, afterSeq: number, limit: number): Promise<JournalEntry[]> {
  const rows = await db('journal').where('seq', '>', afterSeq).orderBy('seq').limit(limit).select('entry');
  return rows.map((r: { entry: JournalEntry }) => r.entry);
}
