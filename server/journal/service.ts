import type { DbOrTrx } from '../db/knex';
import type { JournalEntry } from './append';

export { appendEntry, type AppendInput, type JournalEntry, type JournalKind } from './append';
export { lastZDate, openBusinessDate, RECEIPT_KINDS } from './append';
export { entryLine } from './sync';

export async function listEntries(db: DbOrTrx, afterSeq: number, limit: number): Promise<JournalEntry[]> {
  const rows = await db('journal').where('seq', '>', afterSeq).orderBy('seq').limit(limit).select('entry');
  return rows.map((r: { entry: JournalEntry }) => r.entry);
}
