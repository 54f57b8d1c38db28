import { z } from 'zod';
import { invalid } from '../errors';
import { parseDecimal, currencyExponent, type Minor } from '../money';

/** An amount typed in a form ("12.50"), or undefined when left empty. */
export function amountField(raw: unknown, currency: string, field: string): Minor | undefined {
  if (raw === undefined || raw === null || String(raw).trim() === '') return undefined;
  const v = parseDecimal(String(raw).trim(), currencyExponent(currency) ?? 2);
  if (v === undefined || v < 0) throw invalid('Enter an amount like 12.50.', [{ field, message: 'an amount like 12.50' }]);
  return v;
}

/** The count_<value> fields of a count form, as value → how many (empty fields left out). */
export function countFields(body: Record<string, unknown>): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(body)) {
    const m = /^count_(\d{1,9})$/.exec(k);
    if (!m || v === undefined || String(v).trim() === '') continue;
    const n = Number(String(v).trim());
    if (!Number.isSafeInteger(n) || n < 0) throw invalid('Count whole notes and coins.', [{ field: k, message: 'a whole number, 0 or more' }]);
    out[m[1]] = n;
  }
  return Object.keys(out).length ? out : undefined;
}

const key = z.string().trim().min(8).max(100);
/** Where the pay dialog goes on after its float: only an order's pay dialog */
export const Then = z.string().regex(/^\/orders\/\d{1,12}\/pay$/).optional().catch(undefined);

export const OpenForm = z.object({ idempotency_key: key, float: z.string().max(30).optional(), then: Then }).passthrough();
export const MoveForm = z.object({
  idempotency_key: key,
  kind: z.enum(['paid_in', 'paid_out', 'drop']),
  amount: z.string().trim().min(1).max(30),
  reason: z.string().trim().min(1).max(200),
});
export const CloseForm = z.object({ idempotency_key: key, counted: z.string().max(30).optional(), note: z.string().max(500).optional() }).passthrough();
