import type { DbOrTrx } from './knex';
import { query } from './direct';

/** One data-modifying statement (insert, update, delete), `?` placeholders, for `writeAll`. */
export interface Write {
  sql: string;
  bindings: readonly unknown[];
  /** names the statement so a later one can read its RETURNING rows (`from <name>`) */
  name?: string;
}

const IDENT = /^[a-z_][a-z0-9_]*$/;
function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`Not a plain identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}
const columnsOf = (row: Record<string, unknown>) => Object.keys(row).filter((k) => row[k] !== undefined);

/**
 * `update <table> set <the row's fields> where id = ?` as a Write (a field left undefined is not
 * written). The sale's writes are made this way rather than by a knex query builder: compiling
 * builders was about 3 % of the server's CPU in the bench's profile.
 */
export function updateByIdWrite(table: string, id: number, set: Record<string, unknown>, name?: string): Write {
  return updateWhereWrite(table, set, { id }, name);
}

/**
 * `updateByIdWrite` that also sets columns from another part of the same statement:
 * `update <table> set <the row's fields>, <column> = <from>.<its column>… from <from> where id = ?`.
 */
export function updateByIdFromWrite(table: string, id: number, set: Record<string, unknown>, from: string, fromColumns: Record<string, string>): Write {
  const cols = columnsOf(set);
  const more = Object.entries(fromColumns).map(([c, f]) => `${ident(c)} = ${ident(from)}.${ident(f)}`);
  return {
    sql: `update ${ident(table)} set ${[...cols.map((c) => `${ident(c)} = ?`), ...more].join(', ')} from ${ident(from)} where ${ident(table)}."id" = ?`,
    bindings: [...cols.map((c) => set[c]), id],
  };
}

/** `update <table> set <the row's fields> where <each field of where> = ? and …` as a Write. */
export function updateWhereWrite(table: string, set: Record<string, unknown>, where: Record<string, unknown>, name?: string): Write {
  const cols = columnsOf(set);
  const conds = columnsOf(where);
  if (!cols.length) throw new Error(`An update of ${table} with nothing to set`);
  if (!conds.length) throw new Error(`An update of ${table} without a where`);
  return {
    sql: `update ${ident(table)} set ${cols.map((c) => `${ident(c)} = ?`).join(', ')} where ${conds.map((c) => `${ident(c)} = ?`).join(' and ')}`,
    bindings: [...cols.map((c) => set[c]), ...conds.map((c) => where[c])],
    name,
  };
}

/** `insert into <table> (<the row's fields>) values (…) returning *` as a Write (undefined fields take their default). */
export function insertWrite(table: string, row: Record<string, unknown>, name?: string): Write {
  const cols = columnsOf(row);
  return { sql: `insert into ${ident(table)} (${cols.map(ident).join(', ')}) values (${cols.map(() => '?').join(', ')}) returning *`, bindings: cols.map((c) => row[c]), name };
}

/**
 * `insert into <table> (<the row's fields>) select …, ? from <from> [<then>] returning *` as a
 * Write: the row goes in once for each row of the part `from` of the same statement (none: no
 * insert). `then`: e.g. an ON CONFLICT clause.
 */
export function insertFromWrite(table: string, row: Record<string, unknown>, from: string, opts: { name?: string; then?: string } = {}): Write {
  const cols = columnsOf(row);
  return {
    sql: `insert into ${ident(table)} (${cols.map(ident).join(', ')}) select ${cols.map(() => '?').join(', ')} from ${ident(from)}${opts.then ? ` ${opts.then}` : ''} returning *`,
    bindings: cols.map((c) => row[c]),
    name: opts.name,
  };
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
