import type { DbOrTrx } from '../db/knex';
import type { Clock } from '../clock';
import { BusinessSettings, DEFAULT_SETTINGS } from './schema';

const KEYS = Object.keys(DEFAULT_SETTINGS) as Array<keyof BusinessSettings>;

/** The business settings, read from the database (one small query; nothing is kept between requests). */
export async function getSettings(db: DbOrTrx): Promise<BusinessSettings> {
  const rows: Array<{ key: string; value: unknown }> = await db('settings').whereIn('key', KEYS).select('key', 'value');
  const merged: Record<string, unknown> = { ...DEFAULT_SETTINGS, ...Object.fromEntries(rows.map((r) => [r.key, r.value])) };
  return Object.freeze(BusinessSettings.parse(merged)) as BusinessSettings;
}

declare module 'koa' {
  interface DefaultState {
    /** this request's business settings, read on first use (settingsFor) */
    settings?: Promise<BusinessSettings>;
  }
}

/**
 * The business settings for one request: read once, on first use, and shared by the middleware
 * and the route that serve it (`state` is the request's Koa state). Nothing is kept past the request.
 */
export function settingsFor(state: { settings?: Promise<BusinessSettings> }, db: DbOrTrx): Promise<BusinessSettings> {
  return (state.settings ??= getSettings(db));
}

/**
 * Seeds the business settings on first start only: a key already present is never overwritten,
 * so STORE_NAME and friends cannot silently change a running store.
 */
export async function seedSettings(db: DbOrTrx, clock: Clock, seed: Partial<BusinessSettings>): Promise<void> {
  const values = BusinessSettings.parse({ ...DEFAULT_SETTINGS, ...dropUndefined(seed) });
  const rows = KEYS.map((key) => ({ key, value: JSON.stringify(values[key]), updated_at: clock.now() }));
  await db('settings').insert(rows).onConflict('key').ignore();
}

/** A secret value the server keeps in the database (e.g. the PIN lookup key), made on first use. */
export async function getOrCreateSecret(db: DbOrTrx, clock: Clock, key: string, make: () => string): Promise<string> {
  await db('settings')
    .insert({ key: `secret:${key}`, value: JSON.stringify(make()), updated_at: clock.now() })
    .onConflict('key')
    .ignore();
  const row = await db('settings').where({ key: `secret:${key}` }).first();
  return row.value as string;
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
