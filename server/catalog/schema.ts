import { z } from 'zod';
import { currencyExponent, parseDecimal, type Minor } from '../money';
import type { OrderType } from './queries';

/** The catalog's inputs: what a product, a category, a modifier group or a tax rate is made of. */

export const ORDER_TYPES: readonly OrderType[] = ['counter', 'takeaway', 'dine_in'];
export const ORDER_TYPE_NAMES: Record<OrderType, string> = { counter: 'Counter', takeaway: 'Take-away', dine_in: 'Dine-in' };

/** A product as the service takes it: ids resolved, money in minor units. */
export interface ProductInput {
  name: string;
  categoryId: number;
  price: Minor;
  taxRateId: number;
  /** the rate for an order type where the law differs from the product's own (absent: its own) */
  taxRateByType: Partial<Record<OrderType, number>>;
  sku: string | null;
  barcodes: string[];
  stationId: number | null;
  modifierGroupIds: number[];
  available: boolean;
  openPrice: boolean;
  active: boolean;
  position: number;
  /** counted stock: on (a count or delivery sets the number) or off (null stock) */
  trackStock: boolean;
  lowStockAt: number | null;
}

export const MAX_PRICE = 100_000_000;
export const BARCODE = /^[0-9A-Za-z-]{4,32}$/;

const id = z.coerce.number().int().positive();
const optionalId = z.union([z.literal('').transform(() => null), z.null(), id]).default(null);
const checkbox = z.union([z.literal('on'), z.literal('true'), z.literal(true), z.literal(false)]).optional().transform((v) => v === 'on' || v === 'true' || v === true);
const list = z.union([z.array(z.string()), z.string()]).optional().transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));

/** A price typed as a decimal ("4.20") in the store currency, or the field's error. */
export function priceFrom(text: string, currency: string): Minor | undefined {
  const n = parseDecimal(text, currencyExponent(currency) ?? 2);
  return n === undefined || n < 0 || n > MAX_PRICE ? undefined : n;
}

/** The product form's fields (strings) → a ProductInput, the price parsed in `currency`. */
export function productForm(currency: string) {
  return z.object({
    name: z.string().trim().min(1, 'is required').max(80, 'must be at most 80 characters'),
    category_id: id,
    price: z.string().trim().default('0').transform((v, ctx) => {
      const n = priceFrom(v, currency);
      if (n === undefined) ctx.addIssue({ code: 'custom', message: `must be an amount like 4.20, at most ${currencyExponent(currency) ?? 2} decimals` });
      return n ?? 0;
    }),
    tax_rate_id: id,
    tax_rate_counter: optionalId,
    tax_rate_takeaway: optionalId,
    tax_rate_dine_in: optionalId,
    sku: z.string().trim().max(40, 'must be at most 40 characters').default('').transform((v) => v || null),
    barcodes: z.string().default('').transform((v, ctx) => {
      const codes = [...new Set(v.split(/[\s,]+/).filter(Boolean))];
      const bad = codes.filter((c) => !BARCODE.test(c));
      if (bad.length) ctx.addIssue({ code: 'custom', message: `not a barcode: ${bad.join(', ')} (4 to 32 letters, digits or dashes)` });
      return codes;
    }),
    station_id: optionalId,
    modifier_group_ids: list.transform((v, ctx) => {
      const ids = v.filter(Boolean).map(Number);
      if (ids.some((n) => !Number.isSafeInteger(n) || n < 1)) ctx.addIssue({ code: 'custom', message: 'not a modifier group' });
      return ids;
    }),
    available: checkbox,
    open_price: checkbox,
    active: checkbox,
    position: z.coerce.number().int().min(0).max(100_000).default(0),
    track_stock: checkbox,
    low_stock_at: z.union([z.literal('').transform(() => null), z.coerce.number().int().min(0).max(1_000_000)]).default(null),
  }).transform((f): ProductInput => ({
    name: f.name, categoryId: f.category_id, price: f.price, taxRateId: f.tax_rate_id,
    taxRateByType: Object.fromEntries(ORDER_TYPES.flatMap((t) => {
      const r = f[`tax_rate_${t}`];
      return r === null ? [] : [[t, r]];
    })),
    sku: f.sku, barcodes: f.barcodes, stationId: f.station_id, modifierGroupIds: f.modifier_group_ids,
    available: f.available, openPrice: f.open_price, active: f.active, position: f.position, trackStock: f.track_stock, lowStockAt: f.low_stock_at,
  }));
}

export const CategoryForm = z.object({
  name: z.string().trim().min(1, 'is required').max(60, 'must be at most 60 characters'),
  position: z.coerce.number().int().min(0).max(100_000).default(0),
  colour: z.string().trim().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour like #7c4a2d'),
  active: checkbox,
});
export type CategoryInput = z.infer<typeof CategoryForm>;

export const TaxRateForm = z.object({
  name: z.string().trim().min(1, 'is required').max(40, 'must be at most 40 characters'),
  // a percent with up to 4 decimals: 20, 5.5, 7.25
  rate: z.string().trim().transform((v, ctx) => {
    const ppm = parseDecimal(v, 4);
    if (ppm === undefined || ppm < 0 || ppm > 1_000_000) ctx.addIssue({ code: 'custom', message: 'must be a percent from 0 to 100, like 20 or 5.5' });
    return ppm ?? 0; // a percent read with 4 decimals is its ppm: 20 → 200 000
  }),
});

/**
 * A modifier group: its name, how many options may be chosen, and its options, one per line as
 * "Name" or "Name, price" (a price change, which may be negative: "Oat milk, 0.40").
 */
export function modifierGroupForm(currency: string) {
  return z.object({
    name: z.string().trim().min(1, 'is required').max(60, 'must be at most 60 characters'),
    min_select: z.coerce.number().int().min(0).max(20).default(0),
    max_select: z.coerce.number().int().min(1).max(20).default(1),
    options: z.string().default('').transform((v, ctx) => {
      const out: Array<{ name: string; priceDelta: Minor }> = [];
      for (const [i, raw] of v.split(/\r?\n/).entries()) {
        const line = raw.trim();
        if (!line) continue;
        const m = /^(.*?)(?:\s*[,;]\s*(-?[\d.,]+))?$/.exec(line)!;
        const delta = m[2] === undefined ? 0 : parseDecimal(m[2], currencyExponent(currency) ?? 2);
        if (!m[1] || m[1].length > 60 || delta === undefined || Math.abs(delta) > MAX_PRICE) {
          ctx.addIssue({ code: 'custom', message: `line ${i + 1} ("${line}") is not "Name" or "Name, price"` });
          continue;
        }
        if (out.some((o) => o.name.toLowerCase() === m[1].toLowerCase())) ctx.addIssue({ code: 'custom', message: `"${m[1]}" is listed twice` });
        out.push({ name: m[1], priceDelta: delta });
      }
      if (!out.length) ctx.addIssue({ code: 'custom', message: 'list at least one option' });
      return out;
    }),
  }).refine((g) => g.min_select <= g.max_select, { path: ['min_select'], message: 'must not be more than the most' });
}
export type ModifierGroupInput = z.output<ReturnType<typeof modifierGroupForm>>;

export const BulkPriceForm = z.object({
  category_id: optionalId,
  kind: z.enum(['percent', 'amount']),
  // a percent (10, -5.5) or an amount ("0.20", "-0.10") added to every price
  value: z.string().trim().min(1, 'is required'),
});
