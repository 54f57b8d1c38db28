import crypto from 'node:crypto';
import knex, { type Knex } from 'knex';
// knex's PostgreSQL client class (its typings do not export it)
const ClientPG: new (config: Knex.Config) => object = require('knex/lib/dialects/postgres/index.js');
import pg from 'pg';
import { runStatement } from './round-trips';

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

/**
 * Every statement a connection sends more than once is a prepared statement there: PostgreSQL
 * parses and plans it once instead of on every call. Without this, planning was most of what
 * PostgreSQL spent on a sale (the bench's pg_stat_statements: 0.2–0.5 ms of planning for a
 * 0.1–0.3 ms statement). The name is a hash of the text. A connection keeps at most
 * MAX_PREPARED of them; later texts run unprepared there, so texts that vary (an IN list of N
 * values) cannot grow a connection's memory without bound.
 */
export const MAX_PREPARED = 500;
const UNPREPARED = /^\s*(begin|commit|rollback|savepoint|release|set|create|alter|drop|truncate|lock|listen|notify|copy|do)\b/i;
const names = new Map<string, string | null>();
const preparedCount = new WeakMap<object, number>();

/** The prepared-statement name the server gives `sql` (null: sent unprepared). */
export function statementName(sql: string): string | null {
  let name = names.get(sql);
  if (name === undefined) {
    name = sql.length > 20_000 || UNPREPARED.test(sql) ? null : 's' + crypto.createHash('sha1').update(sql).digest('base64url').slice(0, 20);
    if (names.size < 20_000) names.set(sql, name);
  }
  return name;
}

type PgConnection = pg.ClientBase & { connection?: { parsedStatements?: Record<string, string> } };

/** pg's query config for `text` on `connection`: prepared under its name while the connection has room. */
export function preparedConfig(connection: pg.ClientBase, text: string, values: readonly unknown[], options: { name?: string } = {}) {
  let name = options.name === undefined ? statementName(text) : undefined;
  if (name) {
    const parsed = (connection as PgConnection).connection?.parsedStatements;
    const count = preparedCount.get(connection) ?? 0;
    if (parsed?.[name] === undefined) {
      if (count < MAX_PREPARED) preparedCount.set(connection, count + 1);
      else name = undefined;
    }
  }
  return { text, values: values as unknown[], ...options, ...(name ? { name } : {}) };
}

class PreparingClient extends (ClientPG as new (config: Knex.Config) => object) {
  _query(connection: pg.ClientBase, obj: QueryObject): Promise<QueryObject> {
    if (!obj.sql) return Promise.reject(new Error('The query is empty'));
    const { commitAfter, ...options } = obj.options ?? {};
    return runStatement(connection, preparedConfig(connection, obj.sql, obj.bindings ?? [], options), { commitAfter: commitAfter === true }).then((response) => {
      obj.response = response;
      return obj;
    });
  }
}
interface QueryObject {
  sql: string;
  bindings?: unknown[];
  /** knex's `.options()`: pg's query config, and `commitAfter` (see round-trips.ts) */
  options?: { name?: string; commitAfter?: boolean };
  response?: unknown;
}

/** The session settings of the server's connections (the bench's SQL floor uses them too). */
export const SERVER_SESSION_OPTIONS = '-c plan_cache_mode=force_generic_plan';

/**
 * How long a pooled connection serves before it is replaced, plus up to a third more at random so
 * the pool's connections do not all go at once. A connection plans each statement once (above):
 * a plan made while a table was small (a new store's first sales, the first hour after an
 * import) would otherwise last as long as the connection, and in a busy store the pool's
 * connections are never idle long enough to close: all day. A new connection plans with what
 * autovacuum's ANALYZE has learnt since. Replacing one costs a connection start and its
 * statements' planning again: milliseconds of PostgreSQL's time.
 */
export const CONNECTION_MAX_AGE_MS = 15 * 60_000;

export interface DbOptions {
  poolMax?: number;
  /** CONNECTION_MAX_AGE_MS and its random addition by default; `now` (monotonic ms) for tests */
  connectionAge?: { maxMs: number; jitterMs: number; now: () => number };
}

export function createDb(connectionString: string, opts: DbOptions = {}): Db {
  const age = opts.connectionAge ?? { maxMs: CONNECTION_MAX_AGE_MS, jitterMs: CONNECTION_MAX_AGE_MS / 3, now: () => performance.now() };
  const retireAt = new WeakMap<object, number>();
  return knex({
    client: PreparingClient as unknown as typeof Knex.Client,
    connection: {
      connectionString,
      application_name: 'store-server',
      connectionTimeoutMillis: 3000,
      // every statement is prepared (above): plan it once. With the default (auto) PostgreSQL
      // may decide, from a cost estimate, to plan a statement afresh on every run, for good:
      // after a restart the bench saw the order reads planned on every call (0.5 ms of planning
      // for 0.2 ms of work) and PostgreSQL's CPU per sale up by half. The generic plans of a
      // sale's statements are checked by test/integration/db-plans.test.ts.
      options: SERVER_SESSION_OPTIONS,
    },
    pool: {
      min: 0,
      max: opts.poolMax ?? 20,
      idleTimeoutMillis: 30_000,
      afterCreate(connection: object, done: (err: Error | null, connection: object) => void) {
        retireAt.set(connection, age.now() + age.maxMs + Math.random() * age.jitterMs);
        done(null, connection);
      },
      // asked each time the pool hands a connection out: an old one is closed and a new one made
      validate: (connection: object) => age.now() < (retireAt.get(connection) ?? Number.POSITIVE_INFINITY),
    },
    acquireConnectionTimeout: 5000,
    // knex would print pool errors to the console; callers see the rejected query and log it
    log: { warn: noop, error: noop, deprecate: noop, debug: noop },
  });
}

function noop(): void {}
