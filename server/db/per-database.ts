import type { DbOrTrx } from './knex';

/**
 * One `T` per database, made on first use: what the server keeps in memory about one store's
 * database (two stores in one process, as in the tests, never share it). A knex instance and
 * its transactions share their config object, so a transaction finds its database's.
 */
export function perDatabase<T>(make: () => T): (db: DbOrTrx) => T {
  const all = new WeakMap<object, T>();
  return (db) => {
    const key = (db as unknown as { client: { config: object } }).client.config;
    let value = all.get(key);
    if (value === undefined) all.set(key, (value = make()));
    return value;
  };
}
