import type { Clock } from '../clock';
import { inTransaction, type DbOrTrx, type Trx } from '../db/knex';
import { conflict, invalid, notFound } from '../errors';
import { audit } from '../audit/service';
import type { PrinterInput, PrinterPatch } from './schema';
import type { PrinterRow } from './render';

/**
 * The printers as configured: their settings, the kitchen stations they print for and the
 * terminals whose receipts they print. Audited as settings changes.
 */

export interface PrinterDetail extends PrinterRow {
  stationIds: number[];
  terminalIds: number[];
  fallbackName: string | null;
}

export const listPrinters = (db: DbOrTrx): Promise<PrinterRow[]> => db('printers').orderBy('name').orderBy('id');

export async function getPrinter(db: DbOrTrx, id: number): Promise<PrinterRow> {
  const p: PrinterRow | undefined = await db('printers').where({ id }).first();
  if (!p) throw notFound('That printer');
  return p;
}

/** Every printer with its routes, for the back office and the API. */
export async function printerDetails(db: DbOrTrx, only?: number): Promise<PrinterDetail[]> {
  const printers = only === undefined ? await listPrinters(db) : [await getPrinter(db, only)];
  const ids = printers.map((p) => p.id);
  const stations: Array<{ station_id: number; printer_id: number }> = ids.length ? await db('station_printers').whereIn('printer_id', ids).orderBy('station_id') : [];
  const terminals: Array<{ id: number; receipt_printer_id: number }> = ids.length
    ? await db('terminals').whereIn('receipt_printer_id', ids).whereNull('revoked_at').orderBy('id').select('id', 'receipt_printer_id')
    : [];
  const names = new Map((only === undefined ? printers : await listPrinters(db)).map((p) => [p.id, p.name]));
  return printers.map((p) => ({
    ...p,
    stationIds: stations.filter((s) => s.printer_id === p.id).map((s) => s.station_id),
    terminalIds: terminals.filter((t) => t.receipt_printer_id === p.id).map((t) => t.id),
    fallbackName: p.fallback_printer_id ? names.get(p.fallback_printer_id) ?? null : null,
  }));
}

type By = { staffId?: number | null; terminalId?: number | null; api?: string };

export async function createPrinter(deps: { db: DbOrTrx; clock: Clock }, input: PrinterInput, by: By): Promise<PrinterRow> {
  return inTransaction(deps.db, async (trx) => {
    const now = deps.clock.now();
    await checkRefs(trx, null, input);
    const [row] = await trx('printers').insert({ ...columnsOf(input), created_at: now, updated_at: now }).returning('*').catch(nameTaken);
    await setRoutes(trx, row.id, input);
    await audit(trx, deps.clock, { action: 'settings_changed', staffId: by.staffId, terminalId: by.terminalId, details: { printer: { created: row.id, ...input }, ...(by.api ? { api: by.api } : {}) } });
    return row as PrinterRow;
  });
}

export async function updatePrinter(deps: { db: DbOrTrx; clock: Clock }, id: number, patch: PrinterPatch, by: By): Promise<PrinterRow> {
  return inTransaction(deps.db, async (trx) => {
    const before: PrinterRow | undefined = await trx('printers').where({ id }).forUpdate().first();
    if (!before) throw notFound('That printer');
    const current = (await printerDetails(trx, id))[0]!;
    const input: PrinterInput = {
      name: patch.name ?? before.name, address: patch.address ?? before.address, paperWidth: patch.paperWidth ?? before.paper_width,
      columns: patch.columns ?? (patch.paperWidth && patch.paperWidth !== before.paper_width ? (patch.paperWidth === 58 ? 32 : 48) : before.columns),
      codePage: patch.codePage ?? before.code_page, acknowledgement: patch.acknowledgement ?? before.acknowledgement,
      fallbackPrinterId: patch.fallbackPrinterId !== undefined ? patch.fallbackPrinterId : before.fallback_printer_id,
      failoverAfterSeconds: patch.failoverAfterSeconds ?? before.failover_after_s,
      stationIds: patch.stationIds ?? current.stationIds, terminalIds: patch.terminalIds ?? current.terminalIds,
    };
    const fits = input.paperWidth === 58 ? input.columns === 32 : input.columns !== 32;
    if (!fits) throw invalid(`${input.paperWidth} mm paper cannot have ${input.columns} characters per line.`, [{ field: 'columns', message: 'does not fit the paper' }]);
    await checkRefs(trx, id, input);
    const [row] = await trx('printers').where({ id }).update({ ...columnsOf(input), updated_at: deps.clock.now() }).returning('*').catch(nameTaken);
    await setRoutes(trx, id, input, current);
    await audit(trx, deps.clock, { action: 'settings_changed', staffId: by.staffId, terminalId: by.terminalId, details: { printer: { changed: id, ...patch }, ...(by.api ? { api: by.api } : {}) } });
    return row as PrinterRow;
  });
}

function columnsOf(i: PrinterInput) {
  return {
    name: i.name, address: i.address, paper_width: i.paperWidth, columns: i.columns, code_page: i.codePage, acknowledgement: i.acknowledgement,
    fallback_printer_id: i.fallbackPrinterId, failover_after_s: i.failoverAfterSeconds,
  };
}

function nameTaken(err: { code?: string; constraint?: string }): never {
  if (err.code === '23505') throw conflict('There is a printer with that name already.', 'printer-name-taken');
  throw err;
}

/** The fallback, stations and terminals named must exist; a fallback is never the printer itself. */
async function checkRefs(trx: Trx, id: number | null, i: PrinterInput) {
  if (i.fallbackPrinterId !== null) {
    if (i.fallbackPrinterId === id) throw invalid('A printer cannot be its own fallback.', [{ field: 'fallback_printer_id', message: 'cannot be this printer' }]);
    if (!(await trx('printers').where({ id: i.fallbackPrinterId }).first('id'))) throw invalid('There is no such fallback printer.', [{ field: 'fallback_printer_id', message: 'no such printer' }]);
  }
  const stations = i.stationIds.length ? await trx('stations').whereIn('id', i.stationIds).pluck('id') : [];
  if (stations.length !== new Set(i.stationIds).size) throw invalid('A kitchen station named does not exist.', [{ field: 'station_ids', message: 'no such station' }]);
  const terminals = i.terminalIds.length ? await trx('terminals').whereIn('id', i.terminalIds).whereNull('revoked_at').pluck('id') : [];
  if (terminals.length !== new Set(i.terminalIds).size) throw invalid('A terminal named does not exist or was revoked.', [{ field: 'terminal_ids', message: 'no such terminal' }]);
}

/** The stations and terminals this printer serves become exactly those given (a station has one printer). */
async function setRoutes(trx: Trx, id: number, i: PrinterInput, current?: PrinterDetail) {
  const dropStations = (current?.stationIds ?? []).filter((s) => !i.stationIds.includes(s));
  if (dropStations.length) await trx('station_printers').where({ printer_id: id }).whereIn('station_id', dropStations).delete();
  for (const s of i.stationIds) {
    await trx('station_printers').insert({ station_id: s, printer_id: id }).onConflict('station_id').merge();
  }
  const dropTerminals = (current?.terminalIds ?? []).filter((t) => !i.terminalIds.includes(t));
  if (dropTerminals.length) await trx('terminals').where({ receipt_printer_id: id }).whereIn('id', dropTerminals).update({ receipt_printer_id: null });
  if (i.terminalIds.length) await trx('terminals').whereIn('id', i.terminalIds).update({ receipt_printer_id: id });
}

/** The printer of each station given that has one. */
export async function stationPrinters(db: DbOrTrx, stationIds: number[]): Promise<Map<number, PrinterRow>> {
  if (!stationIds.length) return new Map();
  const rows: Array<PrinterRow & { station_id: number }> = await db('station_printers as sp').join('printers as p', 'p.id', 'sp.printer_id').whereIn('sp.station_id', stationIds).select('p.*', 'sp.station_id');
  return new Map(rows.map(({ station_id, ...p }) => [station_id, p as PrinterRow]));
}

/** The terminal's receipt printer, or undefined: that terminal keeps the browser's print dialog. */
export async function receiptPrinterOf(db: DbOrTrx, terminalId: number | null | undefined): Promise<PrinterRow | undefined> {
  if (!terminalId) return undefined;
  return db('terminals as t').join('printers as p', 'p.id', 't.receipt_printer_id').where('t.id', terminalId).first('p.*');
}
