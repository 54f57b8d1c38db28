import { checkBarcode, parseEmbeddedEan13 } from '../../drivers/scanner/barcode';
import type { DbOrTrx } from '../db/knex';
import { isAppError, unprocessable } from '../errors';
import { currencyExponent } from '../money';
import * as orders from '../orders/service';
import { startSale } from '../orders/start-sale';
import { getSettings } from '../settings/service';

/**
 * Scan to order (issue 21): a barcode read by a scanner bound to a terminal, or typed by a
 * keyboard-wedge scanner on the terminal itself (static/js/wedge.js), adds one of the product
 * with that barcode to the order the terminal shows, through the order service's addLine like
 * a tap on a tile; with no open order shown, it opens a counter order with that line.
 *
 * A refusal is an AppError in the staff's words (unknown barcode, bad check digit, a product
 * that needs options or a price): the wedge's route shows it in #flash, the scanner service
 * sends it to that terminal alone (scan:refused).
 */

export interface ScanInput {
  code: string;
  /** the order the terminal shows; null or closed: a new counter order is opened */
  orderId: number | null;
  actor: orders.Actor;
  /** the terminal's idempotency key for this scan (a wedge request retried after a lost answer) */
  requestKey?: string;
  /** the idle screen's sale key (server/orders/start-sale.ts): scans made on one idle screen land in one sale */
  saleKey?: string;
  /** the type of a sale the scan starts, as chosen on the idle screen (default counter) */
  type?: orders.OrderRow['type'];
}

export interface ScanResult {
  orderId: number;
  /** the scan opened `orderId`: the terminal should show it */
  opened: boolean;
}

const MAX_CODE = 64;

export async function scanToOrder(deps: orders.OrderDeps, input: ScanInput): Promise<ScanResult> {
  const line = await lineForCode(deps.db, input.code);
  if (input.orderId !== null) {
    try {
      await orders.addLine(deps, input.orderId, line, input.requestKey);
      return { orderId: input.orderId, opened: false };
    } catch (e) {
      // the order on screen was paid, voided or merged meanwhile: the scan starts a new sale
      if (!(isAppError(e) && (e.id === 'order-closed' || e.id === 'not-found'))) throw e;
    }
  }
  // a sale with that line, in one transaction (as the first tap on an idle terminal)
  const orderId = await startSale(deps, { type: input.type ?? 'counter', line, saleKey: input.saleKey, requestKey: input.requestKey }, input.actor);
  return { orderId, opened: true };
}

/** The line a scanned code asks for: one of its product, at the price on the label for a price-embedded code. */
export async function lineForCode(db: DbOrTrx, raw: string): Promise<orders.NewLine> {
  const code = raw.trim();
  if (!code || code.length > MAX_CODE || !/^[\x21-\x7e]+$/.test(code)) {
    throw unprocessable(`“${code.slice(0, MAX_CODE)}” is not a barcode this store reads.`, 'bad-barcode', { code: code.slice(0, MAX_CODE) });
  }
  const check = checkBarcode(code);
  if (!check.valid) {
    const kind = { ean13: 'EAN-13', upca: 'UPC-A', ean8: 'EAN-8', other: '' }[check.kind];
    throw unprocessable(`Barcode ${code} did not read right (its ${kind} check digit is wrong): scan it again.`, 'bad-barcode', { code });
  }
  const settings = await getSettings(db);
  const embedded = settings.embeddedPriceBarcodes ? parseEmbeddedEan13(code) : undefined;
  if (embedded) {
    const p = await productByBarcode(db, [embedded.itemCode]);
    if (!p) throw unprocessable(`No item has the code ${embedded.itemCode} of price label ${code}: add ${embedded.itemCode} to its barcodes.`, 'unknown-barcode', { code });
    if (!p.open_price) throw unprocessable(`${p.name} has a fixed price, so its price label ${code} cannot set one: make it open-price.`, 'fixed-price-label', { code });
    return { productId: p.id, quantity: 1, modifierIds: [], note: null, openPrice: minorToDecimal(embedded.value, currencyExponent(settings.currency) ?? 2) };
  }
  const p = await productByBarcode(db, sameGtin(code));
  if (!p) throw unprocessable(`No product has the barcode ${code}.`, 'unknown-barcode', { code });
  return { productId: p.id, quantity: 1, modifierIds: [], note: null };
}

/** A UPC-A is the EAN-13 with a leading 0: a product may carry either form of the same code. */
function sameGtin(code: string): string[] {
  if (/^\d{12}$/.test(code)) return [code, `0${code}`];
  if (/^0\d{12}$/.test(code)) return [code, code.slice(1)];
  return [code];
}

/**
 * The active product carrying one of `codes` as a barcode. The catalog's service has no lookup by
 * barcode yet (the grid's search matches names too), so this reads its barcode table, as the
 * integration API's product search does.
 */
async function productByBarcode(db: DbOrTrx, codes: string[]): Promise<{ id: number; name: string; open_price: boolean } | undefined> {
  return db('product_barcodes as b')
    .join('products as p', 'p.id', 'b.product_id')
    .whereIn('b.barcode', codes)
    .where('p.active', true)
    .orderBy('p.id')
    .first('p.id', 'p.name', 'p.open_price');
}

/** 450 minor units at exponent 2 → "4.50": digits only, no arithmetic on the amount. */
export function minorToDecimal(minor: number, exponent: number): string {
  const digits = String(minor).padStart(exponent + 1, '0');
  return exponent ? `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}` : digits;
}
