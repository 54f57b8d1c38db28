import type { DbOrTrx } from '../db/knex';
import type { Clock } from '../clock';
import { BusinessSettings, DEFAULT_SETTINGS } from './schema';
import { memoPerRequest, primePerRequest } from '../http/request-scope';

const KEYS = Object.keys(DEFAULT_SETTINGS) as Array<keyof BusinessSettings>;

/** The business settings; read once per HTTP request (they change only in the back office). */
export function getSettings(db: DbOrTrx): Promise<BusinessSettings> {
  return memoPerRequest('settings', () => loadSettings(db));
}

/**
 * A subquery that reads the settings as one JSON text, for a query that runs on every request
 * anyway (the auth lookup): pass its text to `primeSettings` and the request reads no more.
 */
export const SETTINGS_SUBQUERY = `(select jsonb_object_agg(key, value)::text from settings where key in (${KEYS.map((k) => `'${k}'`).join(', ')}))`;

/** Makes `getSettings` answer this request from `text` (what SETTINGS_SUBQUERY returned). */
export function primeSettings(text: string | null): void {
  primePerRequest('settings', Promise.resolve(settingsFromText(text)));
}

async function loadSettings(db: DbOrTrx): Promise<BusinessSettings> {
  const res = await db.raw(`select ${SETTINGS_SUBQUERY} as settings`);
  return settingsFromText(res.rows[0].settings);
}

// they change only in the back office: the last parse is reused while the stored text is the same
let lastParsed: { text: string | null; settings: BusinessSettings } | undefined;

function settingsFromText(text: string | null): BusinessSettings {
  if (lastParsed && lastParsed.text === text) return lastParsed.settings;
  const merged: Record<string, unknown> = { ...DEFAULT_SETTINGS, ...(text ? JSON.parse(text) : {}) };
  const settings = Object.freeze(BusinessSettings.parse(merged)) as BusinessSettings;
  lastParsed = { text, settings };
  return settings;
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
