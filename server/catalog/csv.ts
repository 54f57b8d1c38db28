import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { inTransaction, type DbOrTrx, type Trx } from '../db/knex';
import { audit } from '../audit/service';
import type { FieldIssue } from '../errors';
import { adjustIn, announceStock, type StockAlert } from '../inventory/service';
import { currencyExponent } from '../money';
import { createProductIn, productInput, productIssues, updateProductIn, type CatalogDeps, type Who } from './products';
import { BARCODE, ORDER_TYPES, priceFrom, type ProductInput } from './schema';
import type { OrderType } from './queries';

/**
 * The catalog as CSV (RFC 4180, one product a row, names instead of ids), and its import: every
 * row checked first, a report line by line; nothing is written when any row fails, unless the
 * owner asked to import the valid rows. One transaction either way.
 */

export const CSV_COLUMNS = [
  'id', 'name', 'category', 'price', 'tax_rate', 'tax_rate_counter', 'tax_rate_takeaway', 'tax_rate_dine_in', 'sku', 'barcodes', 'station',
  'modifier_groups', 'available', 'open_price', 'active', 'position', 'track_stock', 'stock', 'low_stock_at',
] as const;
type Column = (typeof CSV_COLUMNS)[number];
const REQUIRED_FOR_NEW: Column[] = ['name', 'category', 'price', 'tax_rate'];
const MAX_ROWS = 5000;

const decimal = (n: number, currency: string) => {
  const exp = currencyExponent(currency) ?? 2;
  return exp ? (n / 10 ** exp).toFixed(exp) : String(n);
};
const yesNo = (b: boolean) => (b ? 'yes' : 'no');

/** The whole catalog (inactive products too) as CSV text, the columns of CSV_COLUMNS. */
export async function exportCatalogCsv(db: DbOrTrx, currency: string): Promise<string> {
  const products = await db('products').orderBy(['category_id', 'position', 'id']).pluck('id');
  const cats = await names(db, 'categories');
  const rates = await names(db, 'tax_rates');
  const stations = await names(db, 'stations');
  const groups = await names(db, 'modifier_groups');
  const rows: string[][] = [];
  for (const id of products) {
    const p = await productInput(db, Number(id));
    rows.push([
      String(p.id), p.name, cats.get(p.categoryId)!, decimal(p.price, currency), rates.get(p.taxRateId)!,
      ...ORDER_TYPES.map((t) => (p.taxRateByType[t] === undefined ? '' : rates.get(p.taxRateByType[t]!)!)),
      p.sku ?? '', p.barcodes.join(' '), p.stationId === null ? '' : stations.get(p.stationId)!, p.modifierGroupIds.map((g) => groups.get(g)!).join('|'),
      yesNo(p.available), yesNo(p.openPrice), yesNo(p.active), String(p.position), yesNo(p.trackStock), p.stock === null ? '' : String(p.stock), p.lowStockAt === null ? '' : String(p.lowStockAt),
    ]);
  }
  return stringify(rows, { header: true, columns: [...CSV_COLUMNS], record_delimiter: '\r\n' });
}

async function names(db: DbOrTrx, table: string): Promise<Map<number, string>> {
  const rows: Array<{ id: number; name: string }> = await db(table).select('id', 'name');
  return new Map(rows.map((r) => [Number(r.id), r.name]));
}

export interface ReportRow {
  /** the row's line in the file (the header is line 1) */
  line: number;
  label: string;
  action: 'create' | 'update';
  errors: FieldIssue[];
}

export interface ImportReport {
  rows: ReportRow[];
  failed: number;
  /** rows written: 0 when refused */
  imported: number;
  /** a problem with the file itself (no header, unknown columns, not CSV) */
  fileError?: string;
}

class Refused extends Error {
  constructor(readonly report: ImportReport) {
    super('import refused');
  }
}

/**
 * Imports catalog CSV text. A row with an id (or a SKU the catalog has) changes that product,
 * and only the columns the file has; any other row makes a product. A category not yet in the
 * catalog is made; a tax rate, station or modifier group must exist. With any row failing,
 * nothing is written unless `validOnly` (then the good rows are, and the report says which
 * failed). Terminals are told after the commit.
 */
export async function importCatalogCsv(deps: CatalogDeps, text: string, opts: { currency: string; validOnly: boolean }, by: Who): Promise<ImportReport> {
  let records: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    records = parse(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), bom: true, skip_empty_lines: true, trim: true, info: true });
  } catch (err) {
    return { rows: [], failed: 0, imported: 0, fileError: `This is not a CSV file we can read: ${(err as Error).message}` };
  }
  const header = records.length ? Object.keys(records[0].record) : [];
  const unknown = header.filter((c) => !(CSV_COLUMNS as readonly string[]).includes(c));
  if (!records.length) return { rows: [], failed: 0, imported: 0, fileError: 'The file has no rows under its header.' };
  if (unknown.length) return { rows: [], failed: 0, imported: 0, fileError: `Unknown column${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}. The columns are: ${CSV_COLUMNS.join(', ')}.` };
  if (records.length > MAX_ROWS) return { rows: [], failed: 0, imported: 0, fileError: `At most ${MAX_ROWS} rows at a time.` };
  const alerts: StockAlert[] = [];
  try {
    const report = await inTransaction(deps.db, async (trx) => {
      const checked = await checkRows(trx, records, opts.currency);
      const report: ImportReport = { rows: checked.map((c) => c.report), failed: checked.filter((c) => c.report.errors.length).length, imported: 0 };
      if (report.failed && !opts.validOnly) throw new Refused(report);
      for (const c of checked) {
        if (c.report.errors.length) continue;
        const input = { ...c.input!, categoryId: c.input!.categoryId || (await categoryFor(trx, c.newCategory!)) };
        const id = c.id ? (await updateProductIn(trx, deps.clock, c.id, input, by), c.id) : await createProductIn(trx, deps.clock, input, by);
        if (c.stock !== undefined) alerts.push(...(await adjustIn(trx, deps.clock, { productId: id, reason: 'count', quantity: c.stock, note: 'CSV import' }, by)).alerts);
        report.imported++;
      }
      await audit(trx, deps.clock, { staffId: by.staffId, terminalId: by.terminalId ?? null, action: 'catalog_imported', details: { rows: records.length, imported: report.imported, failed: report.failed } });
      return report;
    });
    announceStock(deps.events, alerts);
    deps.events.publish('catalog:changed', {});
    return report;
  } catch (err) {
    if (err instanceof Refused) return err.report;
    throw err;
  }
}

async function categoryFor(trx: Trx, name: string): Promise<number> {
  const found = await trx('categories').whereRaw('lower(name) = lower(?)', [name]).first('id');
  if (found) return Number(found.id);
  const [row] = await trx('categories').insert({ name, position: 1000 }).returning('id');
  return Number(row.id);
}

interface Checked {
  report: ReportRow;
  id?: number;
  input?: ProductInput;
  /** the category to make, when the row names one the catalog lacks (input.categoryId is 0 then) */
  newCategory?: string;
  stock?: number;
}

async function checkRows(trx: Trx, records: Array<{ record: Record<string, string>; info: { lines: number } }>, currency: string): Promise<Checked[]> {
  const byName = async (table: string) => {
    const rows: Array<{ id: number; name: string }> = await trx(table).select('id', 'name');
    return new Map(rows.map((r) => [r.name.toLowerCase(), Number(r.id)]));
  };
  const cats = await byName('categories');
  const rates = await byName('tax_rates');
  const stations = await byName('stations');
  const groups = await byName('modifier_groups');
  const seenSku = new Map<string, number>();
  const seenCode = new Map<string, number>();
  const out: Checked[] = [];
  for (const { record: r, info } of records) {
    const errors: FieldIssue[] = [];
    const err = (field: string, message: string) => errors.push({ field, message });
    const has = (c: Column) => c in r && r[c] !== '';
    let id: number | undefined;
    if (has('id')) {
      if (!/^\d{1,15}$/.test(r.id) || !(await trx('products').where({ id: Number(r.id) }).first('id'))) err('id', `no product has id ${r.id}`);
      else id = Number(r.id);
    } else if (has('sku')) {
      const p = await trx('products').where({ sku: r.sku }).first('id');
      if (p) id = Number(p.id);
    }
    if (!id) for (const c of REQUIRED_FOR_NEW) if (!has(c)) err(c, 'is required for a new product');
    const base: ProductInput = id ? await productInput(trx, id) : {
      name: '', categoryId: 0, price: 0, taxRateId: 0, taxRateByType: {}, sku: null, barcodes: [], stationId: null, modifierGroupIds: [],
      available: true, openPrice: false, active: true, position: 0, trackStock: false, lowStockAt: null,
    };
    const p: ProductInput = { ...base, taxRateByType: { ...base.taxRateByType } };
    let newCategory: string | undefined;
    let stock: number | undefined;
    const bool = (c: Column, set: (v: boolean) => void) => {
      if (!has(c)) return;
      const v = r[c].toLowerCase();
      if (['yes', 'y', 'true', '1'].includes(v)) set(true);
      else if (['no', 'n', 'false', '0'].includes(v)) set(false);
      else err(c, `"${r[c]}" is not yes or no`);
    };
    const whole = (c: Column, max: number): number | undefined => {
      if (!has(c)) return undefined;
      if (!/^\d{1,7}$/.test(r[c]) || Number(r[c]) > max) { err(c, `"${r[c]}" is not a whole number from 0 to ${max}`); return undefined; }
      return Number(r[c]);
    };
    if (has('name')) { if (r.name.length > 80) err('name', 'is longer than 80 characters'); else p.name = r.name; }
    if (has('category')) {
      const c = cats.get(r.category.toLowerCase());
      if (c) p.categoryId = c;
      else if (r.category.length > 60) err('category', 'is longer than 60 characters');
      else { newCategory = r.category; p.categoryId = 0; }
    }
    if (has('price')) {
      const n = priceFrom(r.price, currency);
      if (n === undefined) err('price', `"${r.price}" is not a price (like 4.20)`);
      else p.price = n;
    }
    if (has('tax_rate')) {
      const t = rates.get(r.tax_rate.toLowerCase());
      if (t) p.taxRateId = t; else err('tax_rate', `no tax rate is named "${r.tax_rate}"`);
    }
    for (const type of ORDER_TYPES) {
      const c = `tax_rate_${type}` as Column;
      if (!(c in r)) continue;
      if (r[c] === '') { delete p.taxRateByType[type as OrderType]; continue; }
      const t = rates.get(r[c].toLowerCase());
      if (t) p.taxRateByType[type] = t; else err(c, `no tax rate is named "${r[c]}"`);
    }
    if ('sku' in r) {
      if (r.sku.length > 40) err('sku', 'is longer than 40 characters');
      else if (r.sku && seenSku.has(r.sku)) err('sku', `is also on line ${seenSku.get(r.sku)}`);
      else { p.sku = r.sku || null; if (r.sku) seenSku.set(r.sku, info.lines); }
    }
    if ('barcodes' in r) {
      const codes = [...new Set(r.barcodes.split(/[\s|,]+/).filter(Boolean))];
      const bad = codes.filter((c) => !BARCODE.test(c));
      const dup = codes.filter((c) => seenCode.has(c));
      if (bad.length) err('barcodes', `not a barcode: ${bad.join(', ')}`);
      else if (dup.length) err('barcodes', `${dup.join(', ')} also on line ${seenCode.get(dup[0])}`);
      else { p.barcodes = codes; for (const c of codes) seenCode.set(c, info.lines); }
    }
    if ('station' in r) {
      if (r.station === '') p.stationId = null;
      else { const s = stations.get(r.station.toLowerCase()); if (s) p.stationId = s; else err('station', `no station is named "${r.station}"`); }
    }
    if ('modifier_groups' in r) {
      const wanted = r.modifier_groups.split('|').map((g) => g.trim()).filter(Boolean);
      const missing = wanted.filter((g) => !groups.has(g.toLowerCase()));
      if (missing.length) err('modifier_groups', `no modifier group is named ${missing.map((m) => `"${m}"`).join(', ')}`);
      else p.modifierGroupIds = wanted.map((g) => groups.get(g.toLowerCase())!);
    }
    bool('available', (v) => { p.available = v; });
    bool('open_price', (v) => { p.openPrice = v; });
    bool('active', (v) => { p.active = v; });
    bool('track_stock', (v) => { p.trackStock = v; });
    const pos = whole('position', 100_000);
    if (pos !== undefined) p.position = pos;
    if ('low_stock_at' in r) p.lowStockAt = r.low_stock_at === '' ? null : (whole('low_stock_at', 1_000_000) ?? p.lowStockAt);
    stock = whole('stock', 1_000_000);
    if (stock !== undefined) p.trackStock = true;
    if (!errors.length) {
      // against the catalog as it is: SKUs and barcodes other products have (a new category is checked when made)
      const issues = await productIssues(trx, { ...p, categoryId: p.categoryId || (await anyCategory(trx)) }, id);
      for (const i of issues) err(CSV_FIELD[i.field] ?? i.field, i.message);
    }
    out.push({ report: { line: info.lines, label: p.name || r.sku || `row ${out.length + 1}`, action: id ? 'update' : 'create', errors }, id, input: p, newCategory, stock });
  }
  return out;
}

/** Form field names as the CSV's columns, for a report in the file's words. */
const CSV_FIELD: Record<string, string> = {
  category_id: 'category', tax_rate_id: 'tax_rate', station_id: 'station', modifier_group_ids: 'modifier_groups',
};

async function anyCategory(trx: Trx): Promise<number> {
  return Number((await trx('categories').first('id'))?.id ?? 0);
}
