import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  PPM,
  quickCash,
  add,
  splitMatrix,
  allocate,
  applyRate,
  assertMinor,
  cashRound,
  cashTenderLooksMistyped,
  computeTotals,
  currencyExponent,
  discountAmount,
  divRound,
  formatMoney,
  includedTax,
  multiply,
  parseDecimal,
  splitEvenly,
  type Discount,
  type TotalsLine,
} from './money';

/**
 * Reference rounding written independently of divRound: truncating quotient and remainder,
 * then one more unit away from zero when the remainder is at least half the divisor.
 */
function refRound(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  const absR = r < 0n ? -r : r;
  const absD = d < 0n ? -d : d;
  if (2n * absR < absD) return q;
  const negative = (n < 0n) !== (d < 0n);
  return negative ? q - 1n : q + 1n;
}

const sum = (xs: number[]): number => xs.reduce((s, x) => s + x, 0);
const bsum = (xs: bigint[]): bigint => xs.reduce((s, x) => s + x, 0n);
const babs = (x: bigint): bigint => (x < 0n ? -x : x);

describe('currencyExponent', () => {
  it('knows the ISO 4217 minor-unit exponents of zero-, two- and three-decimal currencies', () => {
    assert.equal(currencyExponent('JPY'), 0);
    assert.equal(currencyExponent('KRW'), 0);
    assert.equal(currencyExponent('EUR'), 2);
    assert.equal(currencyExponent('USD'), 2);
    assert.equal(currencyExponent('KWD'), 3);
    assert.equal(currencyExponent('BHD'), 3);
    assert.equal(currencyExponent('CLF'), 4);
  });

  it('accepts lowercase and mixed-case codes', () => {
    assert.equal(currencyExponent('jpy'), 0);
    assert.equal(currencyExponent('eur'), 2);
    assert.equal(currencyExponent('Kwd'), 3);
  });

  it('returns undefined for unknown or malformed codes', () => {
    assert.equal(currencyExponent('XYZ'), undefined);
    assert.equal(currencyExponent('EURO'), undefined);
    assert.equal(currencyExponent('EU'), undefined);
    assert.equal(currencyExponent(''), undefined);
    assert.equal(currencyExponent('E1R'), undefined);
    assert.equal(currencyExponent(' EUR'), undefined);
  });
});

describe('assertMinor', () => {
  it('passes safe integers through unchanged', () => {
    assert.equal(assertMinor(0), 0);
    assert.equal(assertMinor(-42), -42);
    assert.equal(assertMinor(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
  });

  it('rejects fractions, non-finite and unsafe numbers with a RangeError naming the value', () => {
    assert.throws(() => assertMinor(1.5), RangeError);
    assert.throws(() => assertMinor(Number.NaN), RangeError);
    assert.throws(() => assertMinor(Number.POSITIVE_INFINITY), RangeError);
    assert.throws(() => assertMinor(Number.MAX_SAFE_INTEGER + 1), RangeError);
    assert.throws(() => assertMinor(0.1, 'price'), /price must be a safe integer/);
  });
});

describe('add and multiply', () => {
  it('adds minor units exactly and treats no arguments as zero', () => {
    assert.equal(add(), 0);
    assert.equal(add(100, 250, -50), 300);
  });

  it('refuses a sum beyond the safe-integer range', () => {
    assert.throws(() => add(Number.MAX_SAFE_INTEGER, 1), RangeError);
  });

  it('multiplies a unit price by a whole quantity', () => {
    assert.equal(multiply(380, 2), 760);
    assert.equal(multiply(-125, 3), -375);
    assert.equal(multiply(999, 0), 0);
  });

  it('refuses fractional quantities and products beyond the safe-integer range', () => {
    assert.throws(() => multiply(100, 1.5), /quantity must be a whole number/);
    assert.throws(() => multiply(Number.MAX_SAFE_INTEGER, 2), RangeError);
  });
});

describe('divRound', () => {
  it('rounds exact halves away from zero', () => {
    assert.equal(divRound(5n, 2n), 3n);
    assert.equal(divRound(-5n, 2n), -3n);
    assert.equal(divRound(1n, 2n), 1n);
    assert.equal(divRound(-1n, 2n), -1n);
    assert.equal(divRound(15n, 10n), 2n);
    assert.equal(divRound(-15n, 10n), -2n);
  });

  it('rounds below half toward zero', () => {
    assert.equal(divRound(4n, 3n), 1n);
    assert.equal(divRound(-4n, 3n), -1n);
    assert.equal(divRound(1n, 3n), 0n);
    assert.equal(divRound(-1n, 3n), 0n);
    assert.equal(divRound(0n, 7n), 0n);
  });

  it('rounds above half away from zero', () => {
    assert.equal(divRound(5n, 3n), 2n);
    assert.equal(divRound(-5n, 3n), -2n);
  });

  it('handles a negative denominator by the sign of the true quotient', () => {
    assert.equal(divRound(5n, -2n), -3n);
    assert.equal(divRound(-5n, -2n), 3n);
    assert.equal(divRound(4n, -3n), -1n);
    assert.equal(divRound(-4n, -3n), 1n);
    assert.equal(divRound(1n, -2n), -1n);
  });

  it('is exact for whole quotients', () => {
    assert.equal(divRound(12n, 4n), 3n);
    assert.equal(divRound(-12n, 4n), -3n);
    assert.equal(divRound(12n, -4n), -3n);
  });

  it('throws on division by zero', () => {
    assert.throws(() => divRound(1n, 0n), /division by zero/);
  });

  it('matches an independent half-away-from-zero rounding for any safe-integer inputs', () => {
    const safe = fc.bigInt({ min: BigInt(Number.MIN_SAFE_INTEGER), max: BigInt(Number.MAX_SAFE_INTEGER) });
    const nonZero = safe.filter((d) => d !== 0n);
    fc.assert(
      fc.property(safe, nonZero, (n, d) => {
        const q = divRound(n, d);
        assert.equal(q, refRound(n, d));
        // within half a unit of the true quotient: |q·d − n| ≤ |d|/2
        assert.ok(2n * babs(q * d - n) <= babs(d));
      }),
    );
  });
});

describe('applyRate', () => {
  it('takes a rate in parts per million of an amount', () => {
    assert.equal(applyRate(1000, 190_000), 190);
    assert.equal(applyRate(1000, 70_000), 70);
    assert.equal(applyRate(10_000, 88_750), 888); // 8.875% of 100.00 = 8.875 → 8.88
    assert.equal(applyRate(1234, 0), 0);
    assert.equal(applyRate(1234, PPM), 1234);
  });

  it('rounds half away from zero', () => {
    assert.equal(applyRate(1005, 100_000), 101); // 100.5
    assert.equal(applyRate(-1005, 100_000), -101);
    assert.equal(applyRate(1004, 100_000), 100); // 100.4
    assert.equal(applyRate(5, 100_000), 1); // 0.5
    assert.equal(applyRate(4, 100_000), 0); // 0.4
  });
});

describe('includedTax', () => {
  it('extracts the tax contained in a tax-inclusive gross amount', () => {
    assert.equal(includedTax(119, 190_000), 19);
    assert.equal(includedTax(1000, 70_000), 65); // 1000 × 0.07 / 1.07 = 65.42
    assert.equal(includedTax(760, 190_000), 121); // 121.34
    assert.equal(includedTax(1190, 190_000), 190);
    assert.equal(includedTax(1000, 0), 0);
    assert.equal(includedTax(0, 190_000), 0);
  });

  it('rounds half away from zero', () => {
    // gross 21 at 100%: contained tax = 21 × 1 / 2 = 10.5 → 11
    assert.equal(includedTax(21, PPM), 11);
    assert.equal(includedTax(-21, PPM), -11);
    assert.equal(includedTax(-1000, 70_000), -65);
  });

  it('leaves a net that, taxed again, gives back the gross within one unit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 0, max: 250_000 }), (gross, ppm) => {
        const tax = includedTax(gross, ppm);
        assert.ok(tax >= 0 && tax <= gross);
        const net = gross - tax;
        assert.ok(Math.abs(net + applyRate(net, ppm) - gross) <= 1);
      }),
    );
  });
});

describe('discountAmount', () => {
  it('takes a percentage of the base, rounded half away from zero', () => {
    assert.equal(discountAmount(1000, { kind: 'percent', ppm: 100_000 }), 100);
    assert.equal(discountAmount(1005, { kind: 'percent', ppm: 100_000 }), 101);
    assert.equal(discountAmount(999, { kind: 'percent', ppm: 0 }), 0);
    assert.equal(discountAmount(999, { kind: 'percent', ppm: PPM }), 999);
  });

  it('takes a fixed amount off the base', () => {
    assert.equal(discountAmount(1000, { kind: 'amount', amount: 250 }), 250);
    assert.equal(discountAmount(1000, { kind: 'amount', amount: 0 }), 0);
  });

  it('never takes more than the base', () => {
    assert.equal(discountAmount(1000, { kind: 'amount', amount: 5000 }), 1000);
    assert.equal(discountAmount(1000, { kind: 'percent', ppm: 1_500_000 }), 1000);
  });

  it('never goes negative', () => {
    assert.equal(discountAmount(1000, { kind: 'amount', amount: -250 }), 0);
    assert.equal(discountAmount(1000, { kind: 'percent', ppm: -100_000 }), 0);
  });

  it('is zero without a discount or without a positive base', () => {
    assert.equal(discountAmount(1000, null), 0);
    assert.equal(discountAmount(1000, undefined), 0);
    assert.equal(discountAmount(0, { kind: 'amount', amount: 100 }), 0);
    assert.equal(discountAmount(-1000, { kind: 'amount', amount: 100 }), 0);
    assert.equal(discountAmount(-1000, { kind: 'percent', ppm: 100_000 }), 0);
  });

  const discounts: fc.Arbitrary<Discount> = fc.oneof(
    fc.record({ kind: fc.constant('percent' as const), ppm: fc.integer({ min: -2_000_000, max: 2_000_000 }) }),
    fc.record({ kind: fc.constant('amount' as const), amount: fc.integer({ min: -1e12, max: 1e12 }) }),
  );

  it('is never negative and never more than the base, for either kind (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.option(discounts), (base, d) => {
        const x = discountAmount(base, d);
        assert.ok(Number.isSafeInteger(x));
        assert.ok(x >= 0);
        assert.ok(x <= Math.max(base, 0));
      }),
    );
  });

  it('equals the rate or amount itself whenever that lies within the base (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e12 }), discounts, (base, d) => {
        const raw = d.kind === 'percent' ? Number(refRound(BigInt(base) * BigInt(d.ppm), BigInt(PPM))) : d.amount;
        fc.pre(raw >= 0 && raw <= base);
        assert.equal(discountAmount(base, d), raw);
      }),
    );
  });
});

describe('parseDecimal', () => {
  it('parses a point or a comma as the decimal separator', () => {
    assert.equal(parseDecimal('12.5', 2), 1250);
    assert.equal(parseDecimal('12,50', 2), 1250);
    assert.equal(parseDecimal('12,5', 2), 1250);
    assert.equal(parseDecimal('0.01', 2), 1);
    assert.equal(parseDecimal('12.', 2), 1200);
  });

  it('parses whole numbers and negatives', () => {
    assert.equal(parseDecimal('-3', 2), -300);
    assert.equal(parseDecimal('-3.25', 2), -325);
    assert.equal(parseDecimal('0', 2), 0);
    assert.equal(parseDecimal('  7.10 ', 2), 710);
  });

  it('never returns negative zero', () => {
    // strict equal compares with Object.is, so -0 would fail here
    assert.equal(parseDecimal('-0', 2), 0);
    assert.equal(parseDecimal('-0.00', 2), 0);
    assert.equal(parseDecimal('-0', 0), 0);
  });

  it('respects the currency exponent', () => {
    assert.equal(parseDecimal('500', 0), 500);
    assert.equal(parseDecimal('5.5', 0), undefined);
    assert.equal(parseDecimal('1.234', 3), 1234);
    assert.equal(parseDecimal('1.2', 3), 1200);
    assert.equal(parseDecimal('0.001', 2), undefined);
  });

  it('rejects text that is not a plain decimal number', () => {
    for (const bad of ['abc', '', ' ', '.5', '1.2.3', '1,234.56', '1e3', '+5', '--1', '12 50', '0x10', '€5', '5-']) {
      assert.equal(parseDecimal(bad, 2), undefined, JSON.stringify(bad));
    }
  });

  it('rejects amounts beyond the safe-integer range', () => {
    assert.equal(parseDecimal('999999999999999', 2), undefined);
    assert.equal(parseDecimal('9999999999999999', 0), undefined);
  });

  it('reads back any amount written with exactly the exponent’s digits (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e13, max: 1e13 }), fc.integer({ min: 0, max: 3 }), (n, exp) => {
        const abs = Math.abs(n).toString().padStart(exp + 1, '0');
        const text = (n < 0 ? '-' : '') + (exp ? `${abs.slice(0, -exp)}.${abs.slice(-exp)}` : abs);
        assert.equal(parseDecimal(text, exp), n);
        assert.equal(parseDecimal(text.replace('.', ','), exp), n);
      }),
    );
  });
});

describe('formatMoney', () => {
  it('shows two decimals for EUR', () => {
    const s = formatMoney(1250, 'EUR');
    assert.ok(s.includes('12.50'), s);
    assert.ok(s.includes('€'), s);
  });

  it('shows no decimals for JPY', () => {
    const s = formatMoney(500, 'JPY');
    assert.ok(s.includes('500'), s);
    assert.ok(!s.includes('.'), s);
  });

  it('shows three decimals for KWD', () => {
    const s = formatMoney(1234, 'KWD');
    assert.ok(s.includes('1.234'), s);
  });

  it('shows negative amounts with a minus sign', () => {
    const s = formatMoney(-1250, 'EUR');
    assert.ok(s.includes('12.50'), s);
    assert.ok(/[-−]/.test(s), s);
  });

  it('honours the locale', () => {
    const s = formatMoney(123456, 'EUR', 'de');
    assert.ok(s.includes('1.234,56'), s);
  });

  it('gives each currency and locale its own text for the same amount, every time (kept texts never mix)', () => {
    for (let round = 0; round < 2; round++) {
      assert.match(formatMoney(1250, 'EUR'), /€12\.50/);
      assert.match(formatMoney(1250, 'USD'), /\$12\.50/);
      assert.match(formatMoney(1250, 'EUR', 'de'), /12,50\s?€/);
      assert.match(formatMoney(1250, 'JPY'), /1,250/);
    }
    // more amounts than are kept: still right after the texts are dropped
    for (let a = 0; a < 5000; a++) assert.equal(formatMoney(a * 7, 'EUR'), new Intl.NumberFormat('en', { style: 'currency', currency: 'EUR' }).format((a * 7) / 100));
  });

  it('shows zero as zero, never as minus zero', () => {
    assert.equal(formatMoney(-0, 'EUR'), formatMoney(0, 'EUR'));
    assert.ok(!/[-−]/.test(formatMoney(-0, 'EUR')), formatMoney(-0, 'EUR'));
  });
});
