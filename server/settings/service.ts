import type { DbOrTrx } from '../db/knex';
import { perDatabase } from '../db/per-database';
import type { Clock } from '../clock';
import { BusinessSettings, DEFAULT_SETTINGS } from './schema';

const KEYS = Object.keys(DEFAULT_SETTINGS) as Array<keyof BusinessSettings>;

/**
 * The business settings. This process is the only writer while it runs (the back office's
 * settings page, and seeding at start), so they are kept per database and dropped when written
 * (`forgetSettings`); every terminal request also refreshes them from its auth query, so a change
 * made by anything else shows from the next request on.
 *
 * (They were memoised per request with AsyncLocalStorage; its promise hooks cost about 10 % of
 * the server's throughput on Node 20, docs/PERFORMANCE.md.)
 */
export function getSettings(db: DbOrTrx): Promise<BusinessSettings> {
  const c = cacheFor(db);
  if (c.settings) return Promise.resolve(c.settings);
  const gen = c.gen;
  return loadSettings(db).then((settings) => {
    if (c.gen === gen) c.settings = settings;
    return settings;
  });
}

/**
 * A subquery that reads the settings as one JSON text, for a query that runs on every request
 * anyway (the auth lookup). Take a primer before sending that query and give it the text after:
 * a write that happened in between wins over what the query read.
 */
export const SETTINGS_SUBQUERY = `(select jsonb_object_agg(key, value)::text from settings where key in (${KEYS.map((k) => `'${k}'`).join(', ')}))`;

export function settingsPrimer(db: DbOrTrx): (text: string | null) => void {
  const c = cacheFor(db);
  const gen = c.gen;
  return (text) => {
    if (c.gen === gen) c.settings = settingsFromText(text);
  };
}

/** After writing settings: the next read goes to the database. */
export function forgetSettings(db: DbOrTrx): void {
  const c = cacheFor(db);
  c.gen++;
  c.settings = undefined;
}

const cacheFor = perDatabase((): { gen: number; settings?: BusinessSettings } => ({ gen: 0 }));

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
  forgetSettings(db);
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
