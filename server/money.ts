/**
 * Money: integer minor units only, one currency per store. This is the only module that does
 * arithmetic on money. Rounding happens only at named points, half away from zero.
 * Rates are integers in parts per million (19% = 190_000) so 8.875% stays exact.
 */

export type Minor = number;
export type Discount = { kind: 'percent'; ppm: number } | { kind: 'amount'; amount: Minor };

const ISO_EXPONENTS: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0,
  VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};
const KNOWN = new Set<string>(Intl.supportedValuesOf('currency'));

/** ISO 4217 minor-unit exponent of a currency code, or undefined when the code is unknown. */
export function currencyExponent(code: string): number | undefined {
  const c = code.toUpperCase();
  if (!/^[A-Z]{3}$/.test(c) || !(KNOWN.has(c) || c in ISO_EXPONENTS)) return undefined;
  return ISO_EXPONENTS[c] ?? 2;
}

export const PPM = 1_000_000;

export function assertMinor(n: number, what = 'amount'): Minor {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} must be a safe integer of minor units, got ${n}`);
  return n;
}

/** n / d rounded half away from zero, exact for any safe-integer inputs. */
export function divRound(n: bigint, d: bigint): bigint {
  if (d === 0n) throw new RangeError('division by zero');
  if (d < 0n) { n = -n; d = -d; }
  const neg = n < 0n;
  const a = neg ? -n : n;
  const q = (a * 2n + d) / (2n * d);
  return neg ? -q : q;
}

const toMinor = (b: bigint, what: string): Minor => assertMinor(Number(b), what);

export function add(...xs: Minor[]): Minor {
  return assertMinor(xs.reduce((s, x) => s + x, 0), 'sum');
}

export function multiply(unit: Minor, qty: number): Minor {
  if (!Number.isSafeInteger(qty)) throw new RangeError('quantity must be a whole number');
  return toMinor(BigInt(unit) * BigInt(qty), 'line amount');
}

/** amount × ppm / 1e6, half away from zero. */
export function applyRate(amount: Minor, ppm: number): Minor {
  return toMinor(divRound(BigInt(amount) * BigInt(ppm), BigInt(PPM)), 'rate amount');
}

/** Tax contained in a tax-inclusive gross amount: gross × r / (1 + r). */
export function includedTax(gross: Minor, ppm: number): Minor {
  return toMinor(divRound(BigInt(gross) * BigInt(ppm), BigInt(PPM + ppm)), 'tax');
}

/**
 * Splits `total` over `weights` in proportion, exactly: floors first, then the largest
 * remainders get one unit each (ties go to the earlier index). Sum of the result === total.
 */
export function allocate(total: Minor, weights: number[]): Minor[] {
  assertMinor(total, 'total');
  if (!weights.length) {
    if (total !== 0) throw new RangeError('cannot allocate a non-zero amount over nothing');
    return [];
  }
  const w = weights.map((x) => BigInt(assertMinor(Math.max(0, x), 'weight')));
  const sum = w.reduce((s, x) => s + x, 0n);
  const sign = total < 0 ? -1n : 1n;
  const t = BigInt(total) * sign;
  if (sum === 0n) {
    // nothing to weigh by: spread evenly
    return allocate(total, weights.map(() => 1));
  }
  const shares = w.map((x) => (t * x) / sum);
  const rema = w.map((x, i) => ({ i, r: (t * x) % sum }));
  let left = t - shares.reduce((s, x) => s + x, 0n);
  rema.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (let k = 0; left > 0n; k = (k + 1) % rema.length, left--) shares[rema[k].i] += 1n;
  return shares.map((s) => toMinor(s * sign, 'allocation'));
}

/** Splits `total` into n parts differing by at most one unit, larger parts first. */
export function splitEvenly(total: Minor, n: number): Minor[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError('parts must be a whole number ≥ 1');
  return allocate(total, Array.from({ length: n }, () => 1));
}

/** The discount amount a discount takes off `base`, never more than base, never negative. */
export function discountAmount(base: Minor, d: Discount | null | undefined): Minor {
  if (!d || base <= 0) return 0;
  const raw = d.kind === 'percent' ? applyRate(base, d.ppm) : d.amount;
  return Math.min(Math.max(raw, 0), base);
}

/** Rounds a cash amount to the store's cash increment (e.g. 5 for 0.05), half away from zero. */
export function cashRound(amount: Minor, increment: number): Minor {
  if (!increment || increment <= 1) return amount;
  return toMinor(divRound(BigInt(amount), BigInt(increment)) * BigInt(increment), 'cash amount');
}

/**
 * Whether a cash tender looks mistyped (issue 18: 1e11 was taken): more than 100 × what is due
 * and more than what is due plus 1000 major units of the currency. A 50 note for a 0.40 coffee
 * passes; a price or a barcode typed into the tendered field does not.
 */
export function cashTenderLooksMistyped(tendered: Minor, due: Minor, exponent: number): boolean {
  const d = BigInt(Math.max(0, assertMinor(due, 'amount due')));
  const times = 100n * d;
  const plus = d + 1000n * 10n ** BigInt(exponent);
  return BigInt(assertMinor(tendered, 'tendered')) > (times > plus ? times : plus);
}

export interface TotalsLine {
  key: string;
  unitPrice: Minor; // base price + modifier deltas, per unit, as shown (incl. tax when inclusive)
  quantity: number;
  taxRateId: string;
  taxPpm: number;
  discount?: Discount | null;
}

export interface LineTotals {
  key: string;
  gross: Minor; // unit × qty
  lineDiscount: Minor;
  orderDiscount: Minor; // this line's share of the order discount
  net: Minor; // gross − both discounts (the amount the tax base is taken from)
}

export interface TaxTotal {
  taxRateId: string;
  ppm: number;
  base: Minor; // net amount excluding tax
  tax: Minor;
}

export interface Totals {
  lines: LineTotals[];
  subtotal: Minor; // Σ gross
  discountTotal: Minor; // Σ line + order discounts
  taxes: TaxTotal[];
  taxTotal: Minor;
  total: Minor; // what the customer owes
}

/**
 * The order's totals: line discounts, then the order discount allocated over the lines by
 * largest remainder, then tax per rate on the per-rate sum (not per line), half away from zero.
 * Inclusive: total = Σ net and tax is contained. Exclusive: total = Σ net + Σ tax.
 */
export function computeTotals(
  lines: TotalsLine[],
  orderDiscount: Discount | null | undefined,
  pricesIncludeTax: boolean,
  /** per tax rate id, units added to the computed tax: a split sets them so its parts add up exactly */
  taxAdjustments?: Record<string, number> | null,
): Totals {
  const pre = lines.map((l) => {
    const gross = multiply(l.unitPrice, l.quantity);
    const lineDiscount = discountAmount(gross, l.discount);
    return { l, gross, lineDiscount, afterLine: gross - lineDiscount };
  });
  const afterLines = add(...pre.map((p) => p.afterLine));
  const od = discountAmount(afterLines, orderDiscount);
  const shares = allocate(od, pre.map((p) => p.afterLine));
  const out: LineTotals[] = pre.map((p, i) => ({
    key: p.l.key,
    gross: p.gross,
    lineDiscount: p.lineDiscount,
    orderDiscount: shares[i],
    net: p.afterLine - shares[i],
  }));
  const byRate = new Map<string, { ppm: number; net: Minor }>();
  pre.forEach((p, i) => {
    const r = byRate.get(p.l.taxRateId) ?? { ppm: p.l.taxPpm, net: 0 };
    r.net = add(r.net, out[i].net);
    byRate.set(p.l.taxRateId, r);
  });
  const taxes: TaxTotal[] = [...byRate.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([taxRateId, { ppm, net }]) => {
      const tax = (pricesIncludeTax ? includedTax(net, ppm) : applyRate(net, ppm)) + (taxAdjustments?.[taxRateId] ?? 0);
      return { taxRateId, ppm, base: pricesIncludeTax ? net - tax : net, tax };
    });
  const subtotal = add(...pre.map((p) => p.gross));
  const net = add(...out.map((l) => l.net));
  const taxTotal = add(...taxes.map((t) => t.tax));
  return {
    lines: out,
    subtotal,
    discountTotal: subtotal - net,
    taxes,
    taxTotal,
    total: pricesIncludeTax ? net : add(net, taxTotal),
  };
}

/** Parses a typed decimal ("12.5", "12,50") into minor units of a currency with `exponent`. */
export function parseDecimal(text: string, exponent: number): Minor | undefined {
  const s = text.trim().replace(',', '.');
  const m = /^(-?)(\d{1,15})(?:\.(\d*))?$/.exec(s);
  if (!m) return undefined;
  const frac = m[3] ?? '';
  if (frac.length > exponent) return undefined;
  const n = Number(m[2] + frac.padEnd(exponent, '0'));
  if (!Number.isSafeInteger(n)) return undefined;
  return m[1] && n ? -n : n; // no -0 (it would display as "-0.00")
}

const formatters = new Map<string, { fmt: Intl.NumberFormat; exp: number; seen: Map<number, string> }>();
const SEEN_PER_FORMAT = 4096;

/**
 * Formats minor units for display (views only). Formatters are built once per currency: they are
 * slow to make; and the texts of the amounts last shown are kept (prices repeat on every screen,
 * and Intl's format was 1–2 % of the server's CPU at rush hour). A zero is never shown as "-0".
 */
export function formatMoney(amount: Minor, currency: string, locale = 'en'): string {
  const key = `${locale}|${currency}`;
  let f = formatters.get(key);
  if (!f) {
    const exp = currencyExponent(currency) ?? 2;
    f = { exp, fmt: new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: exp, maximumFractionDigits: exp }), seen: new Map() };
    formatters.set(key, f);
  }
  const n = amount === 0 ? 0 : amount; // -0 and 0 are one key, and one text
  let text = f.seen.get(n);
  if (text === undefined) {
    text = f.fmt.format(n / 10 ** f.exp);
    if (f.seen.size >= SEEN_PER_FORMAT) f.seen.clear();
    f.seen.set(n, text);
  }
  return text;
}

/**
 * Splits a set of component amounts (e.g. per-rate nets and taxes) over parts whose totals are
 * given, so that every part's cells add up exactly to its total AND every component's cells add
 * up exactly to the component. Each component but the last is shared over the parts by their
 * totals (largest remainder); the last takes each part's remainder, which makes both sums exact.
 * Returns cells[part][component]; throws when a part would get a negative cell.
 */
export function splitMatrix(components: Minor[], partTotals: Minor[]): Minor[][] {
  const total = add(...components);
  if (add(...partTotals) !== total) throw new RangeError('the parts must add up to the whole');
  if (partTotals.some((p) => p < 0) || components.some((c) => c < 0)) throw new RangeError('amounts must not be negative');
  const cells = partTotals.map(() => new Array<number>(components.length).fill(0));
  components.forEach((c, j) => {
    if (j === components.length - 1) return;
    allocate(c, partTotals).forEach((v, i) => (cells[i][j] = v));
  });
  const last = components.length - 1;
  partTotals.forEach((p, i) => {
    cells[i][last] = p - cells[i].slice(0, last).reduce((s, v) => s + v, 0);
    if (cells[i][last] < 0) throw new RangeError('the parts are too small to split this finely');
  });
  return cells;
}

/**
 * The quick-cash amounts a pay dialog offers: exactly what is due, then the next round notes
 * above it (5, 10, 20 in major units of the currency, by its ISO 4217 exponent), without repeats.
 */
export function quickCash(due: Minor, currency: string): Minor[] {
  const unit = 10 ** (currencyExponent(currency) ?? 2);
  const out = [due];
  for (const step of [5, 10, 20]) {
    const s = step * unit;
    const next = Math.ceil(due / s) * s;
    const v = next === due ? next + s : next;
    if (!out.includes(v)) out.push(v);
  }
  return out.filter((v) => v > 0);
}
