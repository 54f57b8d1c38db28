import pg from 'pg';
import type { Db, DbOrTrx } from '../db/knex';
import { perDatabase } from '../db/per-database';
import type { Logger } from '../logger';
import { AUTH_CHANNEL } from '../db/migrations/0010_auth_change_notices';
import { CATALOG_CHANNEL } from '../db/migrations/0011_catalog_change_notices';
import { forgetSettings } from '../settings/service';
import { forgetOrderMemory, orderMemoryHeard } from '../orders/memory';

/**
 * The auth lookup's answers in memory: which terminal a device cookie names and which staff
 * session is open on it. Every request of every terminal asked PostgreSQL this (a third of a
 * sale's round trips, docs/PERFORMANCE.md).
 *
 * An answer is only kept while the server listens for change notices (migration 0010: a NOTIFY
 * on every committed change to terminals, staff, sessions ending or moving, and settings, by
 * this server or anyone else). Each notice drops every kept answer. Without a live listener
 * (not started, or its connection lost) nothing is kept and every request asks PostgreSQL, as
 * before. The server's own changes (logout, login, revoke, idle lock) also drop the answers
 * themselves, before they return, so they hold from the very next request.
 *
 * A generation count keeps a lookup that began before a change from storing what it read.
 */
export interface CachedAuth<T> {
  /** the terminal's stored device-secret hash: the secret is checked on every request */
  tokenHash: string;
  value: T;
}

const MAX_ENTRIES = 10_000;

class AuthCache {
  readonly entries = new Map<string, CachedAuth<unknown>>();
  gen = 0;
  /** listeners whose LISTEN is in force */
  live = 0;

  clear(): void {
    this.gen++;
    this.entries.clear();
  }
}

const cacheFor = perDatabase(() => new AuthCache());

/** A kept answer for `key`, if the cache is live. */
export function cachedAuth<T>(db: DbOrTrx, key: string): CachedAuth<T> | undefined {
  const c = cacheFor(db);
  return c.live > 0 ? (c.entries.get(key) as CachedAuth<T> | undefined) : undefined;
}

/** Call before the lookup; give what it read to the returned function to keep it. */
export function authKeeper<T>(db: DbOrTrx, key: string): (entry: CachedAuth<T>) => void {
  const c = cacheFor(db);
  const gen = c.gen;
  return (entry) => {
    if (c.live === 0 || c.gen !== gen) return;
    if (c.entries.size >= MAX_ENTRIES) c.entries.clear();
    c.entries.set(key, entry);
  };
}

/** Every kept answer in `db`'s cache (for updating one in place, e.g. a session's last activity). */
export function cachedAuthEntries<T>(db: DbOrTrx): Iterable<CachedAuth<T>> {
  return cacheFor(db).entries.values() as Iterable<CachedAuth<T>>;
}

/** Drops every kept answer: call after a change to terminals, staff or sessions commits. */
export function authChanged(db: DbOrTrx): void {
  cacheFor(db).clear();
}

export interface AuthListener {
  /** whether its LISTEN is in force (answers are being kept) */
  readonly live: boolean;
  stop(): Promise<void>;
}

/**
 * Listens for change notices on a connection of its own, reconnecting when it is lost; the
 * cache is live only while the LISTEN is in force. Logs a lost connection once per outage.
 * The same connection hears the catalog's notices for the order memory (server/orders/memory.ts),
 * which is live under the same rule.
 */
export function listenForAuthChanges(db: Db, log: Logger, opts: { retryMs?: number } = {}): AuthListener {
  const cache = cacheFor(db);
  const connection = (db.client as unknown as { config: { connection: pg.ClientConfig } }).config.connection;
  let stopped = false;
  let client: pg.Client | undefined;
  let live = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;

  const down = () => {
    if (live) {
      live = false;
      cache.live--;
      orderMemoryHeard(db, false);
    }
    cache.clear();
  };
  const connect = async () => {
    timer = undefined;
    if (stopped) return;
    const c = new pg.Client({ ...connection, application_name: 'store-server-listen' });
    client = c;
    c.on('notification', (n) => {
      if (n.channel === CATALOG_CHANNEL) forgetOrderMemory(db);
      else if (n.channel !== AUTH_CHANNEL) return;
      else if (n.payload === 'settings') forgetSettings(db);
      else cache.clear();
    });
    c.on('error', () => lost(c));
    c.on('end', () => lost(c));
    try {
      await c.connect();
      await c.query(`listen ${AUTH_CHANNEL}; listen ${CATALOG_CHANNEL}`);
    } catch (err) {
      if (failures++ === 0) log.warn({ err }, 'auth change listener: cannot listen; every request reads its auth from the database');
      lost(c);
      return;
    }
    if (stopped || client !== c) {
      c.end().catch(() => {});
      return;
    }
    // anything may have changed while nobody listened
    cache.clear();
    forgetSettings(db);
    live = true;
    cache.live++;
    orderMemoryHeard(db, true);
    if (failures) log.info('auth change listener: listening again');
    failures = 0;
  };
  const lost = (c: pg.Client) => {
    if (client !== c) return;
    client = undefined;
    if (live && !stopped) log.warn('auth change listener: connection lost; every request reads its auth from the database until it is back');
    if (live) failures = 1;
    down();
    c.end().catch(() => {});
    if (!stopped && !timer) timer = setTimeout(connect, opts.retryMs ?? 1000);
  };
  void connect();
  return {
    get live() {
      return live;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      down();
      await c?.end().catch(() => {});
    },
  };
}
