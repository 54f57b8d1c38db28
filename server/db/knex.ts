import knex, { type Knex } from 'knex';
import pg from 'pg';

export type Db = Knex;
export type Trx = Knex.Transaction;
export type DbOrTrx = Knex | Knex.Transaction;

// int8 (bigint) columns hold money in minor units: parse them to numbers once, here, and refuse
// anything beyond a safe integer rather than silently losing precision.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${v} is beyond a safe integer`);
  return n;
});
// a business date is a calendar day, not an instant: keep `date` columns as 'YYYY-MM-DD' strings.
pg.types.setTypeParser(pg.types.builtins.DATE, (v: string) => v);
// numeric stays a string (exactness); timestamptz → Date (default).

export interface DbOptions {
  poolMax?: number;
}

/** The knex instance over one PostgreSQL database: knex's own pg client, as documented. */
export function createDb(connectionString: string, opts: DbOptions = {}): Db {
  return knex({
    client: 'pg',
    connection: { connectionString, application_name: 'store-server', connectionTimeoutMillis: 3000 },
    pool: { min: 0, max: opts.poolMax ?? 20, idleTimeoutMillis: 30_000 },
    // a burst of requests queues for a connection (sales close one at a time on the journal's
    // chain head) rather than failing after a few seconds; only a database that does not answer
    // at all fails them
    acquireConnectionTimeout: 60_000,
    // knex would print pool errors to the console; callers see the rejected query and log it
    log: { warn: noop, error: noop, deprecate: noop, debug: noop },
  });
}

function noop(): void {}

/**
 * `fn` in a transaction: a new one on `db`, or, given a transaction, that one (no savepoint: a
 * change that fails inside a caller's transaction fails the caller's, which must not catch the
 * error and go on). The caller then commits, and publishes events after.
 */
export function inTransaction<T>(db: DbOrTrx, fn: (trx: Trx) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db as Trx) : db.transaction(fn);
}

/**
 * `fn`'s reads from one snapshot: a read-only REPEATABLE READ transaction on `db`, or, given a
 * transaction, that one. A screen read in several statements after commit would otherwise mix
 * two commits of a busy order (its version from one, its lines from the next).
 */
export function inSnapshot<T>(db: DbOrTrx, fn: (trx: Trx) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db as Trx) : db.transaction(fn, { isolationLevel: 'repeatable read', readOnly: true });
}
