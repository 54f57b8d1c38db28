import type { DbOrTrx } from '../db/knex';
import { entryHash, GENESIS_HASH } from './hash';

export interface VerifyResult {
  ok: boolean;
  checked: number;
  /** the first broken link, if any */
  broken?: { seq: number; problem: string };
}

/**
 * Walks the whole chain in seq order and names the first broken link: a gap, a prev_hash that
 * does not match the previous entry's hash, or a hash that does not match the entry's content.
 */
export async function verifyJournal(db: DbOrTrx, batch = 1000): Promise<VerifyResult> {
  let prev = GENESIS_HASH;
  let expected = 1;
  let checked = 0;
  for (;;) {
    const rows: Array<{ seq: number; prev_hash: string; hash: string; entry: Record<string, unknown> }> = await db('journal')
      .where('seq', '>=', expected)
      .orderBy('seq')
      .limit(batch)
      .select('seq', 'prev_hash', 'hash', 'entry');
    if (!rows.length) break;
    for (const row of rows) {
      const fail = (problem: string): VerifyResult => ({ ok: false, checked, broken: { seq: row.seq, problem } });
      if (row.seq !== expected) return { ok: false, checked, broken: { seq: expected, problem: `entry ${expected} is missing (next is ${row.seq})` } };
      const e = row.entry;
      if (e.seq !== row.seq) return fail(`entry says seq ${String(e.seq)} but is stored as ${row.seq}`);
      if (e.prev_hash !== prev || row.prev_hash !== prev) return fail(`prev_hash does not match the hash of entry ${row.seq - 1}`);
      const recomputed = entryHash(e);
      if (recomputed !== e.hash || row.hash !== e.hash) return fail(`hash does not match the entry's content (content was altered)`);
      prev = row.hash;
      expected++;
      checked++;
    }
  }
  const head = await db('journal_head').where({ id: 1 }).first();
  if (head && (head.seq !== checked || head.hash !== prev)) {
    return { ok: false, checked, broken: { seq: checked + 1, problem: `the chain head says seq ${head.seq} but the journal ends at ${checked}` } };
  }
  return { ok: true, checked };
}
