import type { DbOrTrx, Trx } from '../db/knex';

export interface SessionRow {
  id: number;
  drawer_key: string;
  drawer_name: string;
  printer_id: number | null;
  terminal_id: number | null;
  status: 'open' | 'closed';
  opening_float: number;
  float_counts: Record<string, number> | null;
  opened_by: number | null;
  opened_at: Date;
  open_key: string;
  counted: number | null;
  counted_counts: Record<string, number> | null;
  expected: number | null;
  over_short: number | null;
  closed_by: number | null;
  closed_at: Date | null;
  close_key: string | null;
  close_note: string | null;
}

export interface MovementRow {
  id: number;
  session_id: number;
  kind: 'paid_in' | 'paid_out' | 'drop';
  amount: number;
  reason: string;
  staff_id: number | null;
  journal_seq: number | null;
  idempotency_key: string;
  created_at: Date;
}

/** The drawer's open session, locked: every change to a session goes through its row. */
export function lockOpenSession(trx: Trx, drawerKey: string): Promise<SessionRow | undefined> {
  return trx('drawer_sessions').where({ drawer_key: drawerKey, status: 'open' }).forUpdate().first();
}

export function openSessionOf(db: DbOrTrx, drawerKey: string): Promise<SessionRow | undefined> {
  return db('drawer_sessions').where({ drawer_key: drawerKey, status: 'open' }).first();
}

export function sessionById(db: DbOrTrx, id: number): Promise<SessionRow | undefined> {
  return db('drawer_sessions').where({ id }).first();
}

export function movementsOf(db: DbOrTrx, sessionId: number): Promise<MovementRow[]> {
  return db('cash_movements').where({ session_id: sessionId }).orderBy('id');
}

/**
 * What went into and out of a session's drawer besides its movements: cash payments taken into
 * it (tendered less change; a cash tip stays in the drawer) and cash refunds paid out of it. Only
 * settled payments and refunds count (their `status`, migration 0024).
 */
export async function cashFlows(db: DbOrTrx, sessionId: number): Promise<{ cashIn: number; cashSales: number; refundsOut: number }> {
  const [p] = await db('payments')
    .where({ drawer_session_id: sessionId, method: 'cash', status: 'succeeded' })
    .select(db.raw('coalesce(sum(tendered - change), 0)::bigint as cash_in'), db.raw('count(*)::int as n'));
  const [r] = await db('refunds')
    .where({ drawer_session_id: sessionId, method: 'cash', status: 'succeeded' })
    .select(db.raw('coalesce(sum(total), 0)::bigint as out'));
  return { cashIn: Number(p.cash_in), cashSales: Number(p.n), refundsOut: Number(r.out) };
}

export function listSessions(db: DbOrTrx, opts: { limit: number; beforeId?: number }): Promise<SessionRow[]> {
  const q = db('drawer_sessions').orderBy('id', 'desc').limit(opts.limit);
  if (opts.beforeId) q.where('id', '<', opts.beforeId);
  return q;
}

/** Sessions that were open at some time of a span (opened before its end, not closed before its start). */
export function sessionsDuring(db: DbOrTrx, from: Date, to: Date): Promise<SessionRow[]> {
  return db('drawer_sessions')
    .where('opened_at', '<', to)
    .andWhere((q) => q.whereNull('closed_at').orWhere('closed_at', '>=', from))
    .orderBy('id');
}
