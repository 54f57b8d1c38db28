import type { Knex } from 'knex';
import type pg from 'pg';
import { preparedConfig, type Db, type DbOrTrx, type Trx } from './knex';
import { runStatement } from './round-trips';

/**
 * The hot paths' SQL without knex's per-query and per-transaction machinery.
 *
 * Measured on this machine (a loop of one statement against the embedded PostgreSQL), the
 * server's own CPU per statement: pg with a prepared statement 104 µs, through `knex.raw` 189 µs,
 * through a knex query builder 297 µs; a knex transaction around one statement 460 µs. A sale
 * then sent 26 statements in 6 transactions: knex was about a third of the server's CPU per sale
 * (docs/PERFORMANCE.md).
 *
 * - `query` sends a statement with `?` placeholders straight to the connection (the pool's, or
 *   the transaction's), prepared under the same name knex's path gives it, through the same
 *   round-trip rules (`commitAfter`).
 * - `transaction` runs `fn` on one pooled connection with a light transaction object: callable
 *   for query builders and with `raw`, like knex's, but made without building a knex instance.
 *   Builders made from it run on its connection through knex as usual.
 *
 * Both emit knex's `query` and `query-response` events when someone listens (the bench's capture
 * of a sale's SQL), so a statement is seen whichever path sends it.
 */

interface ClientInternals {
  acquireConnection(): Promise<pg.ClientBase & ConnMarks>;
  releaseConnection(c: pg.ClientBase): Promise<void>;
  queryBuilder(): Knex.QueryBuilder;
  raw(sql: string, bindings?: readonly unknown[]): Knex.Raw;
  emit(event: string, ...args: unknown[]): boolean;
  listenerCount(event: string): number;
}
interface ConnMarks {
  __knexUid?: string;
  __knexTxId?: string;
  /** knex's mark for a connection the pool must destroy instead of reusing */
  __knex__disposed?: unknown;
}

const clientOf = (db: DbOrTrx) => db.client as unknown as ClientInternals;

/** `?` placeholders to PostgreSQL's `$n` (a `\?` is a literal question mark), cached per text. */
const positioned = new Map<string, string>();
export function toNative(sql: string): string {
  let out = positioned.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/(\\*)(\?)/g, (_match, escapes: string) => (escapes.length % 2 ? '?' : `$${++n}`));
    if (positioned.size < 20_000) positioned.set(sql, out);
  }
  return out;
}

function checkValues(sql: string, values: readonly unknown[]): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === undefined) throw new Error(`Undefined binding ${i + 1} in: ${sql}`);
    if (v !== null && typeof v === 'object' && typeof (v as { toSQL?: unknown }).toSQL === 'function') {
      throw new Error(`A query builder or raw as binding ${i + 1} (use knex for those): ${sql}`);
    }
  }
}

export interface QueryOptions {
  /** the transaction's COMMIT rides with this statement (see round-trips.ts) */
  commitAfter?: boolean;
}

/**
 * Runs `sql` (`?` placeholders) on `db`'s pool or in its transaction; resolves to pg's result.
 * The caller names the row type (R); left unnamed, every column is `unknown`.
 */
export async function query<R extends pg.QueryResultRow = Record<string, unknown>>(db: DbOrTrx, sql: string, values: readonly unknown[] = [], opts: QueryOptions = {}): Promise<pg.QueryResult<R>> {
  checkValues(sql, values);
  const client = clientOf(db);
  const conn = await client.acquireConnection();
  try {
    return (await send(client, conn, toNative(sql), values, opts)) as pg.QueryResult<R>;
  } finally {
    await client.releaseConnection(conn);
  }
}

/** The rows of `query`. */
export async function rows<R extends pg.QueryResultRow = Record<string, unknown>>(db: DbOrTrx, sql: string, values: readonly unknown[] = [], opts: QueryOptions = {}): Promise<R[]> {
  return (await query<R>(db, sql, values, opts)).rows;
}

let uid = 0;
async function send(client: ClientInternals, conn: pg.ClientBase & ConnMarks, text: string, values: readonly unknown[], opts: QueryOptions) {
  const watched = client.listenerCount('query') > 0 || client.listenerCount('query-response') > 0;
  const event = watched
    ? { __knexUid: conn.__knexUid, __knexTxId: conn.__knexTxId, __knexQueryUid: `direct${++uid}`, method: 'raw', sql: text, bindings: [...values], options: opts.commitAfter ? { commitAfter: true } : {} }
    : undefined;
  if (event) client.emit('query', event);
  const res = await runStatement(conn, preparedConfig(conn, text, values), { commitAfter: opts.commitAfter === true });
  if (event) client.emit('query-response', res, event, undefined);
  return res;
}

let txCount = 0;

/** Whether `db` is a transaction (knex's or `transaction`'s), not the pool. */
export const isTransaction = (db: DbOrTrx): boolean => (db as { isTransaction?: boolean }).isTransaction === true;

/**
 * `fn` in one transaction on one pooled connection: committed when it resolves (unless a
 * statement carried the COMMIT already), rolled back when it throws. The object `fn` gets is
 * callable for a query builder on the transaction (`trx('orders')…`) and has `raw`; nested
 * transactions are refused. Given a transaction (`db.isTransaction`), `fn` runs inside it.
 */
export async function transaction<T>(db: Db | Trx, fn: (trx: Trx) => Promise<T>): Promise<T> {
  if (isTransaction(db)) return fn(db as Trx);
  const base = clientOf(db);
  const conn = await base.acquireConnection();
  const txid = `direct-trx${++txCount}`;
  conn.__knexTxId = txid;
  let done = false;
  const trxClient: ClientInternals = Object.create(base);
  trxClient.acquireConnection = () => (done ? Promise.reject(new Error(`A statement after its transaction ended (${txid})`)) : Promise.resolve(conn));
  trxClient.releaseConnection = () => Promise.resolve();
  const trx = ((table: string) => trxClient.queryBuilder().table(table)) as unknown as Trx & Record<string, unknown>;
  Object.assign(trx, {
    client: trxClient,
    isTransaction: true,
    userParams: {},
    raw: (sql: string, bindings?: readonly unknown[]) => (bindings === undefined ? trxClient.raw(sql) : trxClient.raw(sql, bindings)),
    isCompleted: () => done,
    transaction: () => Promise.reject(new Error('A nested transaction inside a direct transaction')),
  });
  try {
    await send(base, conn, 'BEGIN', [], {});
    let result: T;
    try {
      result = await fn(trx);
    } catch (err) {
      done = true;
      await send(base, conn, 'ROLLBACK', [], {}).catch((rollbackErr) => {
        // the connection's state is unknown: the pool destroys it instead of lending it again
        // (knex marks a connection that ended by itself the same way)
        conn.__knex__disposed = rollbackErr;
      });
      throw err;
    }
    done = true;
    await send(base, conn, 'COMMIT', [], {});
    return result;
  } catch (err) {
    if (!done) conn.__knex__disposed = err;
    throw err;
  } finally {
    done = true;
    delete conn.__knexTxId;
    await base.releaseConnection(conn);
  }
}
