import type { DbOrTrx, Trx } from '../db/knex';
import type { ReceivedEntry } from './verify';

/**
 * The head office's SQL. Every statement names one store_id (or, for the status page and the
 * operators, reads a whole small table): under Citus each runs on the one shard holding that
 * store (docs/HEAD-OFFICE.md).
 */
export interface StoreRow {
  store_id: string;
  secret_sealed: string;
  created_at: Date;
  revoked_at: Date | null;
  head_seq: number;
  head_hash: string;
  head_entry_at: Date | null;
  last_batch_at: Date | null;
  fork_at_seq: number | null;
  fork_error: string | null;
  fork_seen_at: Date | null;
  last_refusal: string | null;
  last_refusal_at: Date | null;
}

export interface BatchRow {
  store_id: string;
  batch_id: string;
  first_seq: number;
  last_seq: number;
  body_sha256: string;
  acked_through: number;
  received_at: Date;
}

export async function findStore(db: DbOrTrx, storeId: string): Promise<StoreRow | undefined> {
  return db('ho_stores').where({ store_id: storeId }).first();
}

/** The store's row locked until the caller's transaction ends: every append to its chain takes it first. */
export async function lockStore(trx: Trx, storeId: string): Promise<StoreRow | undefined> {
  return trx('ho_stores').where({ store_id: storeId }).forUpdate().first();
}

export async function listStores(db: DbOrTrx): Promise<StoreRow[]> {
  return db('ho_stores').orderBy('store_id');
}

export async function insertStore(db: DbOrTrx, row: { store_id: string; secret_sealed: string; created_at: Date }): Promise<void> {
  await db('ho_stores').insert(row);
}

export async function updateStore(db: DbOrTrx, storeId: string, patch: Partial<Omit<StoreRow, 'store_id'>>): Promise<number> {
  return db('ho_stores').where({ store_id: storeId }).update(patch);
}

/**
 * Takes one token from the store's bucket (`capacity` at most, `perSecond` back each second, at
 * the clock's `now`) and returns what is left: below 0, the request was over the limit. One
 * statement, so instances share the bucket without a lock held across a request.
 */
export async function takeToken(db: DbOrTrx, storeId: string, now: Date, capacity: number, perSecond: number): Promise<number> {
  const r = await db.raw(
    `insert into ho_rate_limits as r (store_id, tokens, at) values (?, ?, ?)
     on conflict (store_id) do update set
       tokens = greatest(-1, least(?::float8, r.tokens + greatest(0, extract(epoch from (excluded.at - r.at))) * ?::float8) - 1),
       at = greatest(r.at, excluded.at)
     returning tokens`,
    [storeId, capacity - 1, now, capacity, perSecond],
  );
  return Number((r.rows as Array<{ tokens: number }>)[0].tokens);
}

export async function findBatch(db: DbOrTrx, storeId: string, batchId: string): Promise<BatchRow | undefined> {
  return db('ho_batches').where({ store_id: storeId, batch_id: batchId }).first();
}

export async function insertBatch(trx: Trx, row: BatchRow): Promise<void> {
  await trx('ho_batches').insert(row);
}

/** The hashes the ledger holds for seq from…to, in order. */
export async function heldHashes(db: DbOrTrx, storeId: string, from: number, to: number): Promise<Array<{ seq: number; hash: string }>> {
  return db('ho_entries').where({ store_id: storeId }).whereBetween('seq', [from, to]).orderBy('seq').select('seq', 'hash');
}

/** A batch's entries in one statement (one JSON parameter, unpacked by PostgreSQL), whatever its size. */
export async function insertEntries(trx: Trx, storeId: string, batchId: string, entries: readonly ReceivedEntry[]): Promise<void> {
  const rows = JSON.stringify(entries.map((e) => ({ seq: e.seq, prev_hash: e.prevHash, hash: e.hash, kind: e.kind, business_date: e.businessDate, at: e.at, line: e.line })));
  await trx.raw(
    `insert into ho_entries (store_id, seq, prev_hash, hash, kind, business_date, at, line, batch_id)
     select ?, u.seq, u.prev_hash, u.hash, u.kind, u.business_date, u.at, u.line, ?
     from json_to_recordset(?::json) as u(seq bigint, prev_hash text, hash text, kind text, business_date date, at timestamptz, line text)`,
    [storeId, batchId, rows],
  );
}

/** Up to `limit` entries after `afterSeq`, in order, as they came. */
export async function entryLines(db: DbOrTrx, storeId: string, afterSeq: number, limit: number): Promise<string[]> {
  const rows: Array<{ line: string }> = await db('ho_entries').where({ store_id: storeId }).andWhere('seq', '>', afterSeq).orderBy('seq').limit(limit).select('line');
  return rows.map((r) => r.line);
}

export async function findOperator(db: DbOrTrx, name: string): Promise<{ name: string; password_hash: string } | undefined> {
  return db('ho_operators').where({ name }).first('name', 'password_hash');
}

export async function upsertOperator(db: DbOrTrx, name: string, passwordHash: string, at: Date): Promise<void> {
  await db('ho_operators').insert({ name, password_hash: passwordHash, updated_at: at }).onConflict('name').merge();
}
