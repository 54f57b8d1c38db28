import type { DbOrTrx } from '../db/knex';

/**
 * A staff session's last activity (what the idle lock measures): written to the session's row,
 * never moved back, never on an ended session.
 */
export async function touchSession(db: DbOrTrx, id: string, at: Date): Promise<void> {
  await db('sessions').where({ id }).whereNull('ended_at').update({ last_active_at: db.raw('greatest(last_active_at, ?)', [at]) });
}
