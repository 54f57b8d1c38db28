import crypto from 'node:crypto';
import type { DbOrTrx } from '../db/knex';

/** ledger_state's one row (migration 0023). */
export interface LedgerStateRow {
  target: string | null;
  acked_through: number;
  head_checked_at: Date | null;
  restore_pending: boolean;
  fork_at_seq: number | null;
  fork_error: string | null;
  fork_at: Date | null;
  attempts: number;
  last_error: string | null;
  last_error_at: Date | null;
  last_success_at: Date | null;
  next_attempt_at: Date | null;
}

export interface BatchRow {
  id: string;
  target: string;
  first_seq: number;
  last_seq: number;
  last_hash: string;
  body_sha256: string;
  bytes: number;
  state: 'open' | 'acked' | 'superseded';
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  last_attempt_at: Date | null;
  acked_through: number | null;
  acked_at: Date | null;
  created_at: Date;
}

export async function readState(db: DbOrTrx): Promise<LedgerStateRow> {
  const row = await db('ledger_state').where({ id: 1 }).first();
  if (!row) throw new Error('ledger_state has no row (migrations not run?)');
  return row;
}

export async function updateState(db: DbOrTrx, change: Partial<LedgerStateRow>): Promise<void> {
  await db('ledger_state').where({ id: 1 }).update(change);
}

/** The restore flag alone, read in a sale's transaction: one row by its key. */
export async function restorePending(db: DbOrTrx): Promise<boolean> {
  const row = await db('ledger_state').where({ id: 1 }).first('restore_pending');
  return !!row?.restore_pending;
}

export async function openBatch(db: DbOrTrx): Promise<BatchRow | undefined> {
  return db('ledger_batches').where({ state: 'open' }).first();
}

export async function insertBatch(db: DbOrTrx, b: Pick<BatchRow, 'target' | 'first_seq' | 'last_seq' | 'last_hash' | 'body_sha256' | 'bytes' | 'created_at'>): Promise<BatchRow> {
  const [row] = await db('ledger_batches').insert({ id: crypto.randomUUID(), state: 'open', ...b }).returning('*');
  return row;
}

export async function updateBatch(db: DbOrTrx, id: string, change: Partial<BatchRow>): Promise<void> {
  await db('ledger_batches').where({ id }).update(change);
}

export async function recentBatches(db: DbOrTrx, limit: number): Promise<BatchRow[]> {
  return db('ledger_batches').orderBy('created_at', 'desc').orderBy('first_seq', 'desc').limit(limit);
}
