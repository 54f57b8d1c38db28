import type { Knex } from 'knex';
import type { DbOrTrx } from './knex';
import { query } from './direct';

/** One data-modifying statement (insert, update, delete), `?` placeholders, for `writeAll`. */
export interface Write {
  sql: string;
  bindings: readonly unknown[];
  /** names the statement so a later one can read its RETURNING rows (`from <name>`) */
  name?: string;
}

/** A query builder's insert / update as a Write. */
export function asWrite(q: Knex.QueryBuilder, name?: string): Write {
  const { sql, bindings } = q.toSQL();
  return { sql, bindings, name };
}

/**
 * Runs the writes as one statement, each a WITH part: one round trip instead of one per write.
 * PostgreSQL runs every part once and to completion; they share one snapshot, so a part sees
 * another's effect only through RETURNING (by its name). Any failure fails them all.
 * Returns the RETURNING rows of the part named `select`, if given.
 *
 * `commitAfter`: the transaction's COMMIT goes with this statement, in the same round trip
 * (server/db/round-trips.ts); it must be the transaction's last statement.
 */
export async function writeAll<T = Record<string, unknown>>(db: DbOrTrx, writes: Write[], select?: string, opts: { commitAfter?: boolean; final?: string } = {}): Promise<T[]> {
  if (!writes.length) return [];
  const parts = writes.map((w, i) => `${w.name ?? `write_${i}`} as (${w.sql})`);
  // `final`: the statement's own query after the writes, without bindings (its rows are returned)
  const main = opts.final ?? `select ${select ? `* from ${select}` : '1'}`;
  const res = await query<T & Record<string, unknown>>(db, `with ${parts.join(', ')} ${main}`, writes.flatMap((w) => w.bindings), { commitAfter: opts.commitAfter });
  return select || opts.final ? res.rows : [];
}
