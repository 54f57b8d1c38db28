import pg from 'pg';

/**
 * Transaction control without round trips of its own.
 *
 * A transaction used to cost a round trip for `BEGIN` and another for `COMMIT`. On this kind of
 * machine every round trip is a write to PostgreSQL's socket and a wake-up on each side (the
 * bench's CPU profile had 20 % of the server's samples in `writev`). Here:
 *
 * - `BEGIN` is held back and sent in front of the transaction's first statement, in the same
 *   write and under the same Sync. A transaction that sends nothing sends no `BEGIN`.
 * - A statement marked `commitAfter` carries the `COMMIT` behind it the same way. The
 *   `COMMIT` the caller's transaction sends afterwards then has nothing left to do.
 *
 * The extended protocol runs the messages in order. An error skips the rest up to the Sync:
 * - a failed statement is not committed, and the transaction it began stays open, aborted,
 *   for the caller's ROLLBACK;
 * - a failed COMMIT is an error like any other, and PostgreSQL has already rolled back.
 */
export interface StatementConfig {
  text: string;
  values?: unknown[];
  /** a prepared statement's name */
  name?: string;
}

interface PgConnection {
  parsedStatements: Record<string, string | undefined>;
  submittedNamedStatements: Record<string, string | undefined>;
  parse(msg: { text: string; name?: string }): void;
  bind(msg: { statement?: string; portal?: string; values: unknown[]; valueMapper?: unknown }): void;
  describe(msg: { type: 'P'; name: string }): void;
  execute(msg: { portal?: string; rows?: number }): void;
  close(msg: { type: 'S' | 'P'; name: string }): void;
  sync(): void;
}
interface PgResultInternals {
  fields: unknown[];
  _parsers?: unknown[];
  _prebuiltEmptyResultObject: object | null;
}
interface PgQueryInternals {
  name?: string;
  queryMode?: 'extended';
  text: string;
  values?: unknown[];
  portal: string;
  callback?: unknown;
  _result: PgResultInternals;
  _accumulateRows: unknown;
  listeners(event: string): unknown[];
  prepare(c: PgConnection): void;
  handleRowDescription(msg: unknown): void;
  hasBeenParsed(c: PgConnection): boolean;
  _getRows(c: PgConnection, rows?: number): void;
  handleCommandComplete(msg: unknown, c: PgConnection): void;
  handleError(err: Error, c: PgConnection): void;
}
// pg's Query: a text, its values and the callback (a config object would be copied, see WrappedQuery)
const PgQuery = pg.Query as unknown as new (text: string, values: unknown[], callback: (err: Error | null, res?: pg.QueryResult) => void) => PgQueryInternals;

interface ConnectionState {
  /** BEGIN asked for, not sent yet */
  beginPending: boolean;
  /** a statement carried the COMMIT: the transaction is over */
  committed: boolean;
  /** prepared names whose Parse went out in a batch that failed: parse them afresh */
  unsure: Set<string>;
  /** nested transactions (knex's savepoints) open inside the transaction */
  savepoints: number;
}
const states = new WeakMap<object, ConnectionState>();
function stateOf(client: object): ConnectionState {
  let s = states.get(client);
  if (!s) states.set(client, (s = { beginPending: false, committed: false, unsure: new Set(), savepoints: 0 }));
  return s;
}

/**
 * What a prepared statement's rows look like, learnt from its first Describe on a connection.
 *
 * pg asks PostgreSQL to describe the result on every execution and builds its row parsers from
 * the answer each time: for the sale's wide rows (the order and its lines) that was about 5 % of
 * the server's main thread (perf). A prepared statement's result columns cannot change while it
 * exists (PostgreSQL refuses with "cached plan must not change result type"), so after the first
 * execution the description is reused and no Describe is sent. It is forgotten with the
 * statement whenever the statement is parsed afresh.
 */
interface Described {
  fields: unknown[];
  parsers: unknown[] | undefined;
  empty: object | null;
}
const descriptions = new WeakMap<object, Map<string, Described>>();
function describedOf(c: object): Map<string, Described> {
  let m = descriptions.get(c);
  if (!m) descriptions.set(c, (m = new Map()));
  return m;
}
// the value mapper pg's own prepare binds with (its typings do not export it)
const pgPrepareValue = (require('pg/lib/utils') as { prepareValue: (v: unknown) => unknown }).prepareValue;

/** One statement with transaction control around it, all in one write and under one Sync. */
class WrappedQuery extends PgQuery {
  private completes = 0;
  private parsedHere = false;
  private conn?: PgConnection;

  constructor(
    config: StatementConfig,
    private readonly before: readonly string[],
    private readonly after: readonly string[],
    private readonly reparse: boolean,
    private readonly state: ConnectionState,
    callback: (err: Error | null, res?: pg.QueryResult) => void,
  ) {
    // the text as a string: pg copies a config object with getOwnPropertyDescriptors and
    // defineProperties, about 1.5 % of the server's CPU in a profile of the rush's pages
    super(config.text, config.values ?? [], callback);
    this.name = config.name;
    this.queryMode = 'extended';
  }

  override prepare(c: PgConnection): void {
    this.conn = c;
    for (const sql of this.before) control(c, sql);
    if (!this.name) return super.prepare(c);
    if (this.reparse) {
      // closing a statement that does not exist is not an error
      c.close({ type: 'S', name: this.name });
      delete c.parsedStatements[this.name];
    }
    this.parsedHere = !this.hasBeenParsed(c);
    const described = this.parsedHere ? undefined : describedOf(c).get(this.name);
    if (this.parsedHere) describedOf(c).delete(this.name);
    if (!described) return super.prepare(c);
    // pg's own prepare (Parse when needed, Bind, Describe, Execute, Sync) without the Describe
    this._result.fields = described.fields;
    this._result._parsers = described.parsers;
    this._result._prebuiltEmptyResultObject = described.empty;
    this._accumulateRows = this.callback || !this.listeners('row').length;
    try {
      c.bind({ portal: this.portal, statement: this.name, values: this.values ?? [], valueMapper: pgPrepareValue });
    } catch (err) {
      c.sync();
      this.handleError(err as Error, c);
      return;
    }
    this._getRows(c);
  }

  override handleRowDescription(msg: unknown): void {
    super.handleRowDescription(msg);
    if (this.name && this.conn) {
      const r = this._result;
      describedOf(this.conn).set(this.name, { fields: r.fields, parsers: r._parsers, empty: r._prebuiltEmptyResultObject });
    }
  }

  /** pg's own Query sends Execute and Sync here: the COMMIT goes between them */
  override _getRows(c: PgConnection): void {
    c.execute({ portal: this.portal });
    for (const sql of this.after) control(c, sql);
    c.sync();
  }

  override handleCommandComplete(msg: unknown, c: PgConnection): void {
    // BEGIN's and COMMIT's completions are not the statement's result
    if (this.completes++ === this.before.length) super.handleCommandComplete(msg, c);
  }

  override handleError(err: Error, c: PgConnection): void {
    // pg marks a name parsed on the batch's first ParseComplete, which may have been BEGIN's:
    // whether this statement's own Parse went through is unknown, so its next use parses afresh
    if (this.name && this.parsedHere) {
      delete c.parsedStatements[this.name];
      this.state.unsure.add(this.name);
    }
    super.handleError(err, c);
  }
}

/** A statement without parameters, in the unnamed statement and portal (no Describe: no rows). */
function control(c: PgConnection, sql: string): void {
  c.parse({ text: sql });
  c.bind({ values: [] });
  c.execute({});
}

const BEGIN = /^begin;?$/i;
const END = /^(commit|rollback);?$/i;
const SAVEPOINT = /^savepoint\b/i;
const SAVEPOINT_END = /^(release|rollback to)\s+savepoint\b/i;

function answered(command: string): pg.QueryResult {
  return { command, rowCount: null, oid: 0, fields: [], rows: [] } as unknown as pg.QueryResult;
}

/**
 * Runs `config` on `client` as the round-trip rules above say. `BEGIN` is the plain one only
 * (an isolation level or a savepoint is sent as it is). `commitAfter` needs an open transaction;
 * inside a nested one (a savepoint) it does nothing: the outer transaction decides.
 */
export function runStatement(client: pg.ClientBase, config: StatementConfig, opts: { commitAfter?: boolean } = {}): Promise<pg.QueryResult> {
  const state = stateOf(client);
  const text = config.text.trim();
  if (BEGIN.test(text)) {
    if (state.beginPending || state.committed) return Promise.reject(new Error('BEGIN inside a transaction'));
    state.beginPending = true;
    return Promise.resolve(answered('BEGIN'));
  }
  if (END.test(text) && (state.beginPending || state.committed)) {
    // nothing was sent, or the COMMIT already went with the last statement
    state.beginPending = false;
    state.committed = false;
    state.savepoints = 0;
    return Promise.resolve(answered(text.replace(/;$/, '').toUpperCase()));
  }
  if (state.committed) {
    return Promise.reject(new Error('a statement after its transaction had committed: the commitAfter statement must be the transaction\'s last'));
  }
  if (END.test(text)) state.savepoints = 0;
  else if (SAVEPOINT.test(text)) state.savepoints++;
  else if (SAVEPOINT_END.test(text)) state.savepoints = Math.max(0, state.savepoints - 1);
  const before = state.beginPending ? ['BEGIN'] : [];
  state.beginPending = false;
  if (opts.commitAfter && !before.length && txStatus(client) !== 'T') {
    return Promise.reject(new Error('commitAfter outside a transaction'));
  }
  const after = opts.commitAfter && !state.savepoints ? ['COMMIT'] : [];
  const reparse = config.name !== undefined && state.unsure.delete(config.name);
  if (!before.length && !after.length && !reparse && config.name === undefined) return client.query(config as pg.QueryConfig);
  return new Promise((resolve, reject) => {
    let settled = false;
    const q = new WrappedQuery(config, before, after, reparse, state, (err, res) => {
      // pg calls back twice when a value fails to bind (the error, then at ReadyForQuery): the
      // first answer counts. Then nothing ran after BEGIN, not the COMMIT either: the
      // transaction stays open for the caller's ROLLBACK.
      if (settled) return;
      settled = true;
      if (err) return reject(err);
      if (after.length) state.committed = true;
      resolve(res!);
    });
    client.query(q as unknown as pg.QueryConfig);
  });
}

/** 'I' idle, 'T' in a transaction, 'E' in a failed one, as the last ReadyForQuery said */
function txStatus(client: pg.ClientBase): string | null {
  return (client as unknown as { _txStatus?: string | null })._txStatus ?? null;
}

/** Whether `client` is inside a transaction, counting one whose BEGIN is still held back. */
export function inTransaction(client: pg.ClientBase): boolean {
  const s = stateOf(client);
  return s.beginPending || (!s.committed && txStatus(client) !== 'I');
}
