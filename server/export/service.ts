import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { strToU8, zipSync } from 'fflate';
import type { Clock } from '../clock';
import type { Db, DbOrTrx } from '../db/knex';
import { addDays, businessDate, localDate, localParts } from '../business-date';
import { invalid, notFound } from '../errors';
import { getSettings } from '../settings/service';
import { openBusinessDate } from '../journal/service';
import { dayTotals, salesSummary } from '../reports/service';
import { dayFiles } from './files';
import { summaryHtml } from './summary-html';

export { toCsv, neutralise, type Cell } from './csv';
export { ExportScheduler } from './scheduler';

/**
 * The owners' export of a business day (issue 23): EXPORT_DIR/YYYY-MM-DD/ with orders.csv,
 * order_lines.csv, payments.csv, journal.ndjson, summary.json, summary.html and manifest.json
 * (each file's size and SHA-256). Written into a folder beside it and renamed into place, so a
 * folder that exists is complete; written again, it is replaced whole. Each run is remembered
 * (export_runs), so a night the server was off is exported at the next start.
 */
export interface ExportDeps {
  db: Db;
  clock: Clock;
  exportDir: string;
}

export type ExportTrigger = 'nightly' | 'start' | 'manual' | 'cli';

export interface Manifest {
  business_date: string;
  store: string;
  currency: string;
  created_at: string;
  journal: { first_seq: number | null; last_seq: number | null; first_prev_hash: string | null; last_hash: string | null };
  files: Array<{ name: string; bytes: number; sha256: string }>;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const sha256 = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');

export function exportFolder(exportDir: string, date: string): string {
  if (!DATE.test(date)) throw invalid('Give the business day as YYYY-MM-DD.', [{ field: 'date', message: 'YYYY-MM-DD' }]);
  return path.join(exportDir, date);
}

/** Writes the business day's export; returns its folder and manifest. */
export async function writeExport(deps: ExportDeps, date: string, trigger: ExportTrigger): Promise<{ dir: string; manifest: Manifest }> {
  const dir = exportFolder(deps.exportDir, date);
  const settings = await getSettings(deps.db);
  const files = await dayFiles(deps.db, date, settings);
  const summary = await daySummary(deps.db, date);
  const contents: Record<string, string> = {
    ...files,
    'summary.json': JSON.stringify(summary, null, 2) + '\n',
    'summary.html': summaryHtml(summary, settings),
  };
  const lines = files['journal.ndjson'].split('\n').filter(Boolean);
  const first = lines.length ? (JSON.parse(lines[0]) as { seq: number; prev_hash: string }) : null;
  const last = lines.length ? (JSON.parse(lines[lines.length - 1]) as { seq: number; hash: string }) : null;
  const manifest: Manifest = {
    business_date: date,
    store: settings.storeName,
    currency: settings.currency,
    created_at: deps.clock.now().toISOString(),
    journal: { first_seq: first?.seq ?? null, last_seq: last?.seq ?? null, first_prev_hash: first?.prev_hash ?? null, last_hash: last?.hash ?? null },
    files: Object.entries(contents).map(([name, text]) => {
      const b = Buffer.from(text, 'utf8');
      return { name, bytes: b.length, sha256: sha256(b) };
    }),
  };
  const manifestText = JSON.stringify(manifest, null, 2) + '\n';
  fs.mkdirSync(deps.exportDir, { recursive: true });
  const tmp = `${dir}.partial-${crypto.randomBytes(4).toString('hex')}`;
  fs.mkdirSync(tmp);
  for (const [name, text] of Object.entries(contents)) fs.writeFileSync(path.join(tmp, name), text);
  fs.writeFileSync(path.join(tmp, 'manifest.json'), manifestText);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  await deps.db('export_runs')
    .insert({ business_date: date, dir, manifest_sha256: sha256(manifestText), trigger, written_at: deps.clock.now() })
    .onConflict('business_date').merge();
  return { dir, manifest };
}

/** summary.json: the day's sales summary (tables) beside its totals from the journal, its Z, its drawers. */
export async function daySummary(db: DbOrTrx, date: string) {
  const [summary, journal] = [await salesSummary(db, { from: date, to: date }), await dayTotals(db, date)];
  const [z] = (await db.raw("select entry from journal where kind = 'z_closure' and (entry->>'business_date') = ? order by seq desc limit 1", [date])).rows as Array<{ entry: Record<string, unknown> }>;
  const drawers = await db('drawer_sessions')
    .whereRaw('closed_at is not null')
    .andWhere('closed_at', '>=', db.raw('(?::date - 1)::timestamptz', [date]))
    .andWhere('closed_at', '<', db.raw('(?::date + 2)::timestamptz', [date]))
    .orderBy('id')
    .select('id', 'drawer_name', 'opening_float', 'expected', 'counted', 'over_short', 'opened_at', 'closed_at');
  return {
    business_date: date,
    sales: summary,
    journal_totals: journal,
    z: z ? { z_no: z.entry.z_no, at: z.entry.at, seq: z.entry.seq, grand_totals: z.entry.grand_totals } : null,
    drawers,
  };
}
export type DaySummary = Awaited<ReturnType<typeof daySummary>>;

/** The day's folder as a zip (fflate, in memory: a day's export is small). */
export function zipExport(exportDir: string, date: string): Buffer {
  const dir = exportFolder(exportDir, date);
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) throw notFound(`The export of ${date}`);
  const entries: Record<string, Uint8Array> = {};
  for (const name of fs.readdirSync(dir).sort()) entries[`${date}/${name}`] = new Uint8Array(fs.readFileSync(path.join(dir, name)));
  return Buffer.from(zipSync(entries, { level: 6, mtime: new Date(`${date}T12:00:00Z`) }));
}

export async function exportRuns(db: DbOrTrx, limit = 60): Promise<Array<{ business_date: string; dir: string; trigger: string; written_at: Date; manifest_sha256: string }>> {
  return db('export_runs').orderBy('business_date', 'desc').limit(limit).select(db.raw('business_date::text as business_date'), 'dir', 'trigger', 'written_at', 'manifest_sha256');
}

/**
 * The business dates whose export is due at `now` and not written: each day from the one after
 * the last export (or, the first time, the day the journal begins, at most 31 days back) up to the
 * last day whose export time has passed. A day with nothing in the journal has nothing to export.
 */
export async function dueDates(db: DbOrTrx, now: Date): Promise<string[]> {
  const s = await getSettings(db);
  if (!s.exportTime) return [];
  const local = localParts(now, s.timezone);
  const today = localDate(now, s.timezone);
  const passed = local.hour * 60 + local.minute >= Number(s.exportTime.slice(0, 2)) * 60 + Number(s.exportTime.slice(3, 5));
  // the export at HH:MM on a calendar day is of the business day that ended before it
  let last = addDays(today, passed ? -1 : -2);
  const open = businessDate(now, s.timezone, s.businessDayStart);
  if (last >= open) last = addDays(open, -1); // never a day still open (an export time before the day start)
  const [run] = (await db.raw('select max(business_date)::text as d from export_runs')).rows as Array<{ d: string | null }>;
  const lastRun = run?.d ?? null;
  const [first] = (await db.raw("select min(entry->>'business_date') as d from journal where entry->>'business_date' is not null")).rows as Array<{ d: string | null }>;
  if (!first?.d) return [];
  let from = lastRun ? addDays(lastRun, 1) : first.d;
  if (from < addDays(last, -30)) from = addDays(last, -30);
  if (from < first.d) from = first.d;
  const out: string[] = [];
  for (let d = from; d <= last; d = addDays(d, 1)) {
    const [has] = (await db.raw("select 1 from journal where (entry->>'business_date') = ? limit 1", [d])).rows;
    if (has) out.push(d);
  }
  return out;
}

/** Writes every due export (a missed night at start; last night's on the timer). */
export async function runDueExports(deps: ExportDeps, trigger: ExportTrigger): Promise<string[]> {
  const dates = await dueDates(deps.db, deps.clock.now());
  for (const d of dates) await writeExport(deps, d, trigger);
  return dates;
}

/** The business day before the open one: what "export" means with no date. */
export async function lastClosedDay(db: DbOrTrx, clock: Clock): Promise<string> {
  return addDays(await openBusinessDate(db, clock.now()), -1);
}
