import type { Clock } from '../clock';
import type { Trx } from '../db/knex';
import { invalid } from '../errors';
import { computeTotals, currencyExponent, parseDecimal, PPM, type Discount, type Minor, type Totals } from '../money';
import type { BusinessSettings } from '../settings/schema';
import { orderLines, type LineRow, type OrderRow } from './queries';

export const MAX_AMOUNT = 100_000_000_000; // minor units; beyond this a typed amount is a typo

/** A typed amount ("12.50") in the store currency's minor units, or a 400 naming the field. */
export function toMinor(text: string, currency: string, what: string): Minor {
  const exp = currencyExponent(currency) ?? 2;
  const n = parseDecimal(text, exp);
  if (n === undefined) throw invalid(`${what} must be an amount with at most ${exp} decimals.`, [{ field: what, message: 'not an amount' }]);
  if (n < 0 || n > MAX_AMOUNT) throw invalid(`${what} is out of range.`, [{ field: what, message: 'out of range' }]);
  return n;
}

export function toDiscount(kind: 'percent' | 'amount' | 'none', value: string | undefined, currency: string): Discount | null {
  if (kind === 'none') return null;
  if (kind === 'percent') {
    const ppm = parseDecimal(value ?? '', 4);
    if (ppm === undefined || ppm <= 0 || ppm > 100 * 10_000) throw invalid('A percent discount must be between 0 and 100.', [{ field: 'value', message: 'out of range' }]);
    return { kind: 'percent', ppm }; // '12.5' parsed with 4 decimals is 125 000 ppm = 12.5%
  }
  const amount = toMinor(value ?? '', currency, 'value');
  if (amount <= 0) throw invalid('A discount amount must be more than zero.', [{ field: 'value', message: 'must be more than zero' }]);
  return { kind: 'amount', amount };
}

export const discountOf = (kind: string | null, value: number | null): Discount | null =>
  kind === 'percent' ? { kind: 'percent', ppm: value! } : kind === 'amount' ? { kind: 'amount', amount: value! } : null;
export const discountValue = (d: Discount | null) => (d ? (d.kind === 'percent' ? d.ppm : d.amount) : null);

export function totalsFor(order: OrderRow, lines: LineRow[], settings: BusinessSettings): Totals {
  return computeTotals(
    lines.map((l) => ({
      key: String(l.id),
      unitPrice: l.unit_price,
      quantity: l.quantity,
      taxRateId: String(l.tax_rate_id),
      taxPpm: l.tax_ppm,
      // a comp is made and given away: the whole line comes off, and its value counts as comps
      discount: l.comp_reason ? { kind: 'percent', ppm: PPM } : discountOf(l.discount_kind, l.discount_value),
    })),
    discountOf(order.discount_kind, order.discount_value),
    settings.pricesIncludeTax,
    order.tax_adjustments,
  );
}

/**
 * Writes the order's totals for its lines as they are now (read again unless given) and moves
 * its version on. `clearTaxAdjustments`: a split part changed, its taxes are computed afresh.
 * Returns the new version.
 */
export async function recompute(trx: Trx, clock: Clock, order: OrderRow, settings: BusinessSettings, lines?: LineRow[], clearTaxAdjustments = false): Promise<number> {
  const basis = clearTaxAdjustments ? { ...order, tax_adjustments: null } : order;
  const t = totalsFor(basis, lines ?? (await orderLines(trx, order.id)), settings);
  const version = order.version + 1;
  await trx('orders').where({ id: order.id }).update({
    subtotal: t.subtotal, discount_total: t.discountTotal, tax_total: t.taxTotal, total: t.total, version, updated_at: clock.now(),
    ...(clearTaxAdjustments ? { tax_adjustments: null } : {}),
  });
  return version;
}
