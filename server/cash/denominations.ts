import { add, currencyExponent, multiply, type Minor } from '../money';

/** The notes and coins a drawer is counted in, in minor units, largest first (a count form's rows). */
const BY_CURRENCY: Record<string, Minor[]> = {
  EUR: [50000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1],
  USD: [10000, 5000, 2000, 1000, 500, 100, 25, 10, 5, 1],
  GBP: [5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1],
  CHF: [100000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5],
};

export function denominationsOf(currency: string): Minor[] {
  const known = BY_CURRENCY[currency];
  if (known) return known;
  const exp = currencyExponent(currency) ?? 2;
  const unit = 10 ** exp;
  return [500, 200, 100, 50, 20, 10, 5, 2, 1].map((n) => n * unit).concat(exp > 0 ? [50, 20, 10, 5, 1].map((n) => (n * unit) / 100).filter(Number.isInteger) : []);
}

/**
 * A count by denomination (value → how many) checked and summed: values must be the currency's
 * denominations, counts whole and not negative. Returns the total in minor units.
 */
export function sumCounts(counts: Record<string, number>, currency: string): { total: Minor; bad: string[] } {
  const allowed = new Set(denominationsOf(currency).map(String));
  const bad: string[] = [];
  let total = 0;
  for (const [value, n] of Object.entries(counts)) {
    if (!allowed.has(value) || !Number.isSafeInteger(n) || n < 0 || n > 100_000) {
      bad.push(value);
      continue;
    }
    total = add(total, multiply(Number(value), n));
  }
  return { total, bad };
}
