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

describe('allocate', () => {
  it('splits by largest remainder, ties going to the earlier index', () => {
    assert.deepEqual(allocate(100, [1, 1, 1]), [34, 33, 33]);
    assert.deepEqual(allocate(101, [1, 1, 1]), [34, 34, 33]);
    assert.deepEqual(allocate(10, [1, 1, 1]), [4, 3, 3]);
    assert.deepEqual(allocate(2, [1, 1, 1, 1]), [1, 1, 0, 0]);
  });

  it('mirrors positive allocations for negative totals', () => {
    assert.deepEqual(allocate(-100, [1, 1, 1]), [-34, -33, -33]);
    assert.deepEqual(allocate(-10, [1, 1, 1]), [-4, -3, -3]);
  });

  it('gives the leftover unit to the largest remainder, not the largest weight', () => {
    // exact shares: 100·{1,2,7}/10 = 10, 20, 70 → exact
    assert.deepEqual(allocate(100, [1, 2, 7]), [10, 20, 70]);
    // exact shares: 10·{1,3}/4 = 2.5, 7.5 → tie at .5, earlier index wins
    assert.deepEqual(allocate(10, [1, 3]), [3, 7]);
    // exact shares: 5·{2,3,5}/10 = 1.0, 1.5, 2.5 → one unit left, remainders tie, index 1 wins
    assert.deepEqual(allocate(5, [2, 3, 5]), [1, 2, 2]);
    // exact shares: 7·{1,6}/7 = 1, 6
    assert.deepEqual(allocate(7, [1, 6]), [1, 6]);
    // exact shares: 1·{1,2}/3 = 0.33, 0.67 → the larger remainder gets it
    assert.deepEqual(allocate(1, [1, 2]), [0, 1]);
  });

  it('gives nothing to zero-weight entries when others have weight', () => {
    assert.deepEqual(allocate(100, [0, 1, 0, 1]), [0, 50, 0, 50]);
    assert.deepEqual(allocate(7, [0, 5]), [0, 7]);
  });

  it('treats negative weights as zero', () => {
    assert.deepEqual(allocate(10, [-5, 1]), [0, 10]);
  });

  it('spreads evenly when every weight is zero', () => {
    assert.deepEqual(allocate(10, [0, 0, 0]), [4, 3, 3]);
    assert.deepEqual(allocate(-10, [0, 0, 0]), [-4, -3, -3]);
    assert.deepEqual(allocate(0, [0, 0]), [0, 0]);
  });

  it('allocates zero as all zeros', () => {
    assert.deepEqual(allocate(0, [3, 1, 4]), [0, 0, 0]);
  });

  it('allocates zero over nothing as nothing, and refuses a non-zero amount over nothing', () => {
    assert.deepEqual(allocate(0, []), []);
    assert.throws(() => allocate(1, []), RangeError);
    assert.throws(() => allocate(-1, []), RangeError);
  });

  it('refuses non-integer totals and weights', () => {
    assert.throws(() => allocate(1.5, [1]), RangeError);
    assert.throws(() => allocate(10, [0.5, 1]), RangeError);
  });

  const totals = fc.integer({ min: -1e12, max: 1e12 });
  const weightArrays = fc.array(fc.integer({ min: 0, max: 1e6 }), { minLength: 1, maxLength: 20 });

  it('always sums exactly to the total (property)', () => {
    fc.assert(
      fc.property(totals, weightArrays, (total, weights) => {
        const shares = allocate(total, weights);
        assert.equal(shares.length, weights.length);
        assert.equal(sum(shares), total);
        for (const s of shares) assert.ok(Number.isSafeInteger(s));
      }),
    );
  });

  it('keeps every share within one unit of its exact proportional value (property)', () => {
    fc.assert(
      fc.property(totals, weightArrays, (total, weights) => {
        const shares = allocate(total, weights);
        // all-zero weights spread evenly, i.e. as if every weight were 1
        const w = sum(weights) === 0 ? weights.map(() => 1n) : weights.map((x) => BigInt(x));
        const W = bsum(w);
        const T = BigInt(total);
        shares.forEach((s, i) => {
          // |s − T·wᵢ/W| < 1  ⇔  |s·W − T·wᵢ| < W
          assert.ok(babs(BigInt(s) * W - T * w[i]) < W, `share ${i} = ${s} of ${total} over ${weights.join(',')}`);
        });
      }),
    );
  });

  it('gives every share the sign of the total, or zero (property)', () => {
    fc.assert(
      fc.property(totals, weightArrays, (total, weights) => {
        for (const s of allocate(total, weights)) {
          if (total > 0) assert.ok(s >= 0);
          else if (total < 0) assert.ok(s <= 0);
          else assert.equal(s, 0);
        }
      }),
    );
  });

  it('gives zero-weight entries nothing when any weight is positive (property)', () => {
    fc.assert(
      fc.property(totals, weightArrays, (total, weights) => {
        fc.pre(weights.some((x) => x > 0));
        allocate(total, weights).forEach((s, i) => {
          if (weights[i] === 0) assert.equal(s, 0);
        });
      }),
    );
  });

  it('is the exact negation for a negated total (property)', () => {
    fc.assert(
      fc.property(totals, weightArrays, (total, weights) => {
        const pos = allocate(total, weights);
        const neg = allocate(-total, weights);
        pos.forEach((s, i) => assert.equal(neg[i], -s || 0));
      }),
    );
  });
});

describe('splitEvenly', () => {
  it('splits into parts differing by at most one, larger parts first', () => {
    assert.deepEqual(splitEvenly(100, 3), [34, 33, 33]);
    assert.deepEqual(splitEvenly(-100, 3), [-34, -33, -33]);
    assert.deepEqual(splitEvenly(10, 4), [3, 3, 2, 2]);
    assert.deepEqual(splitEvenly(2, 5), [1, 1, 0, 0, 0]);
    assert.deepEqual(splitEvenly(0, 2), [0, 0]);
    assert.deepEqual(splitEvenly(7, 1), [7]);
  });

  it('refuses part counts that are not whole numbers of at least one', () => {
    assert.throws(() => splitEvenly(10, 0), RangeError);
    assert.throws(() => splitEvenly(10, -1), RangeError);
    assert.throws(() => splitEvenly(10, 1.5), RangeError);
  });

  it('sums exactly, differs by at most one, and never increases along the list (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: 1, max: 50 }), (total, n) => {
        const parts = splitEvenly(total, n);
        assert.equal(parts.length, n);
        assert.equal(sum(parts), total);
        assert.ok(Math.max(...parts) - Math.min(...parts) <= 1);
        for (let i = 1; i < parts.length; i++) assert.ok(Math.abs(parts[i]) <= Math.abs(parts[i - 1]));
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

describe('cashRound', () => {
  it('rounds to the nearest 0.05 with increment 5', () => {
    assert.equal(cashRound(1002, 5), 1000);
    assert.equal(cashRound(1003, 5), 1005);
    assert.equal(cashRound(1007, 5), 1005);
    assert.equal(cashRound(1008, 5), 1010);
    assert.equal(cashRound(1005, 5), 1005);
    assert.equal(cashRound(-1003, 5), -1005);
    assert.equal(cashRound(-1002, 5), -1000);
    assert.equal(cashRound(2, 5), 0);
    assert.equal(cashRound(-2, 5), 0);
  });

  it('rounds exact halves away from zero', () => {
    assert.equal(cashRound(1005, 10), 1010);
    assert.equal(cashRound(-1005, 10), -1010);
    assert.equal(cashRound(1004, 10), 1000);
  });

  it('is the identity for increments of one, zero or less', () => {
    for (const amount of [0, 1, 1003, -1003, 999_999_999]) {
      assert.equal(cashRound(amount, 1), amount);
      assert.equal(cashRound(amount, 0), amount);
      assert.equal(cashRound(amount, -5), amount);
    }
  });

  it('lands on a multiple of the increment within half an increment (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: 2, max: 1000 }), (amount, inc) => {
        const r = cashRound(amount, inc);
        assert.equal(Math.abs(r % inc), 0);
        assert.ok(2 * Math.abs(r - amount) <= inc);
        assert.equal(cashRound(-amount, inc), -r || 0);
      }),
    );
  });
});

describe('computeTotals', () => {
  const line = (key: string, unitPrice: number, quantity: number, taxRateId: string, taxPpm: number, discount?: Discount): TotalsLine => ({
    key, unitPrice, quantity, taxRateId, taxPpm, discount,
  });

  it('extracts the contained tax from an inclusive order: 2 × 3.80 at 19%', () => {
    const t = computeTotals([line('a', 380, 2, 'std', 190_000)], null, true);
    assert.equal(t.subtotal, 760);
    assert.equal(t.discountTotal, 0);
    assert.equal(t.total, 760);
    assert.equal(t.taxTotal, 121); // 760 × 19 / 119 = 121.34
    assert.deepEqual(t.taxes, [{ taxRateId: 'std', ppm: 190_000, base: 639, tax: 121 }]);
    assert.deepEqual(t.lines, [{ key: 'a', gross: 760, lineDiscount: 0, orderDiscount: 0, net: 760 }]);
  });

  it('adds tax per rate to an exclusive order: 10.00 at 7% + 10.00 at 19%', () => {
    const t = computeTotals([line('a', 1000, 1, 'std', 190_000), line('b', 1000, 1, 'red', 70_000)], undefined, false);
    assert.equal(t.subtotal, 2000);
    assert.equal(t.discountTotal, 0);
    assert.deepEqual(t.taxes, [
      { taxRateId: 'red', ppm: 70_000, base: 1000, tax: 70 },
      { taxRateId: 'std', ppm: 190_000, base: 1000, tax: 190 },
    ]);
    assert.equal(t.taxTotal, 260);
    assert.equal(t.total, 2260);
  });

  it('allocates an order discount of 10 over three equal lines as 4, 3, 3', () => {
    const lines = [line('a', 100, 1, 't', 0), line('b', 100, 1, 't', 0), line('c', 100, 1, 't', 0)];
    const t = computeTotals(lines, { kind: 'amount', amount: 10 }, false);
    assert.deepEqual(t.lines.map((l) => l.orderDiscount), [4, 3, 3]);
    assert.deepEqual(t.lines.map((l) => l.net), [96, 97, 97]);
    assert.equal(t.discountTotal, 10);
    assert.equal(t.total, 290);
  });

  it('caps an order discount of 10 on three lines of 0.01 at their 3 units', () => {
    const lines = [line('a', 1, 1, 't', 0), line('b', 1, 1, 't', 0), line('c', 1, 1, 't', 0)];
    const t = computeTotals(lines, { kind: 'amount', amount: 10 }, false);
    assert.deepEqual(t.lines.map((l) => l.orderDiscount), [1, 1, 1]);
    assert.equal(t.total, 0);
  });

  it('allocates an order discount of 10 over weights 1, 1, 1 as 4, 3, 3', () => {
    // weights are the lines' amounts after line discounts: three lines of equal amount
    const lines = [line('a', 1000, 1, 't', 0), line('b', 500, 2, 't', 0), line('c', 250, 4, 't', 0)];
    const t = computeTotals(lines, { kind: 'amount', amount: 10 }, true);
    assert.deepEqual(t.lines.map((l) => l.orderDiscount), [4, 3, 3]);
  });

  it('applies line discounts before the order discount and taxes the rest per rate', () => {
    const lines = [
      line('a', 1000, 2, 'std', 190_000, { kind: 'percent', ppm: 100_000 }), // 2000 − 200 = 1800
      line('b', 500, 1, 'red', 70_000, { kind: 'amount', amount: 100 }), // 500 − 100 = 400
    ];
    const t = computeTotals(lines, { kind: 'percent', ppm: 100_000 }, false); // 10% of 2200 = 220
    assert.deepEqual(t.lines, [
      { key: 'a', gross: 2000, lineDiscount: 200, orderDiscount: 180, net: 1620 },
      { key: 'b', gross: 500, lineDiscount: 100, orderDiscount: 40, net: 360 },
    ]);
    assert.equal(t.subtotal, 2500);
    assert.equal(t.discountTotal, 520);
    assert.deepEqual(t.taxes, [
      { taxRateId: 'red', ppm: 70_000, base: 360, tax: 25 }, // 25.2
      { taxRateId: 'std', ppm: 190_000, base: 1620, tax: 308 }, // 307.8
    ]);
    assert.equal(t.total, 1980 + 333);
  });

  it('taxes the per-rate sum, not each line', () => {
    // three lines of 0.05 at 10%: per line 0.5 → 1 each = 3; on the sum 15 × 10% = 1.5 → 2
    const lines = [line('a', 5, 1, 't', 100_000), line('b', 5, 1, 't', 100_000), line('c', 5, 1, 't', 100_000)];
    const t = computeTotals(lines, null, false);
    assert.equal(t.taxTotal, 2);
    assert.equal(t.total, 17);
  });

  it('caps an order discount at the order amount', () => {
    const t = computeTotals([line('a', 300, 1, 't', 190_000)], { kind: 'amount', amount: 1000 }, true);
    assert.equal(t.discountTotal, 300);
    assert.equal(t.total, 0);
    assert.equal(t.taxTotal, 0);
  });

  it('gives an empty order zero totals', () => {
    const t = computeTotals([], { kind: 'amount', amount: 100 }, false);
    assert.deepEqual(t, { lines: [], subtotal: 0, discountTotal: 0, taxes: [], taxTotal: 0, total: 0 });
  });

  // ---- properties over random orders ----

  type Rate = { id: string; ppm: number };
  type Order = { rates: Rate[]; lines: TotalsLine[]; orderDiscount: Discount | null };

  const discountArb: fc.Arbitrary<Discount> = fc.oneof(
    fc.record({ kind: fc.constant('percent' as const), ppm: fc.integer({ min: 0, max: 1_000_000 }) }),
    fc.record({ kind: fc.constant('amount' as const), amount: fc.integer({ min: 0, max: 3_000_000 }) }),
  );

  const orderArb: fc.Arbitrary<Order> = fc
    .array(fc.integer({ min: 0, max: 250_000 }), { minLength: 1, maxLength: 3 })
    .chain((ppms) => {
      const rates = ppms.map((ppm, i) => ({ id: `rate-${i}`, ppm }));
      const lineArb = fc
        .record({
          unitPrice: fc.integer({ min: 0, max: 100_000 }),
          quantity: fc.integer({ min: 1, max: 20 }),
          rate: fc.integer({ min: 0, max: rates.length - 1 }),
          discount: fc.option(discountArb, { nil: undefined }),
        });
      return fc.record({
        rates: fc.constant(rates),
        lines: fc.array(lineArb, { minLength: 1, maxLength: 10 }).map((ls) =>
          ls.map((l, i): TotalsLine => ({
            key: `line-${i}`,
            unitPrice: l.unitPrice,
            quantity: l.quantity,
            taxRateId: rates[l.rate].id,
            taxPpm: rates[l.rate].ppm,
            discount: l.discount,
          })),
        ),
        orderDiscount: fc.option(discountArb, { nil: null }),
      });
    });

  /** The discount a Discount takes off a non-negative base, computed independently. */
  const refDiscount = (base: number, d: Discount | null | undefined): number => {
    if (!d || base <= 0) return 0;
    const raw = d.kind === 'percent' ? Number(refRound(BigInt(base) * BigInt(d.ppm), BigInt(PPM))) : d.amount;
    return Math.min(Math.max(raw, 0), base);
  };

  for (const inclusive of [false, true]) {
    const mode = inclusive ? 'tax-inclusive' : 'tax-exclusive';

    it(`allocates discounts exactly (${mode}, property)`, () => {
      fc.assert(
        fc.property(orderArb, ({ lines, orderDiscount }) => {
          const t = computeTotals(lines, orderDiscount, inclusive);
          assert.equal(t.lines.length, lines.length);
          const afterLines = sum(lines.map((l) => {
            const gross = l.unitPrice * l.quantity;
            return gross - refDiscount(gross, l.discount);
          }));
          const od = refDiscount(afterLines, orderDiscount);
          assert.equal(sum(t.lines.map((l) => l.orderDiscount)), od);
          t.lines.forEach((l, i) => {
            assert.equal(l.key, lines[i].key);
            assert.equal(l.gross, lines[i].unitPrice * lines[i].quantity);
            assert.equal(l.lineDiscount, refDiscount(l.gross, lines[i].discount));
            assert.equal(l.net, l.gross - l.lineDiscount - l.orderDiscount);
          });
          assert.equal(t.subtotal, sum(t.lines.map((l) => l.gross)));
          assert.equal(t.discountTotal, sum(t.lines.map((l) => l.lineDiscount)) + od);
          assert.equal(sum(t.lines.map((l) => l.net)), t.subtotal - t.discountTotal);
        }),
      );
    });

    it(`never produces negative totals (${mode}, property)`, () => {
      fc.assert(
        fc.property(orderArb, ({ lines, orderDiscount }) => {
          const t = computeTotals(lines, orderDiscount, inclusive);
          assert.ok(t.total >= 0);
          assert.ok(t.taxTotal >= 0);
          assert.ok(t.discountTotal >= 0);
          assert.ok(t.discountTotal <= t.subtotal);
          for (const l of t.lines) {
            assert.ok(l.net >= 0, `line ${l.key} net ${l.net}`);
            assert.ok(l.lineDiscount >= 0);
            assert.ok(l.orderDiscount >= 0);
          }
          for (const x of t.taxes) {
            assert.ok(x.tax >= 0);
            assert.ok(x.base >= 0);
          }
        }),
      );
    });

    it(`makes the total add up from lines, discounts and tax (${mode}, property)`, () => {
      fc.assert(
        fc.property(orderArb, ({ lines, orderDiscount }) => {
          const t = computeTotals(lines, orderDiscount, inclusive);
          const gross = sum(t.lines.map((l) => l.gross));
          assert.equal(t.taxTotal, sum(t.taxes.map((x) => x.tax)));
          if (inclusive) {
            assert.equal(t.total, gross - t.discountTotal);
            assert.equal(sum(t.taxes.map((x) => x.base)) + t.taxTotal, t.total);
          } else {
            assert.equal(t.total, gross - t.discountTotal + t.taxTotal);
            assert.equal(sum(t.taxes.map((x) => x.base)), gross - t.discountTotal);
          }
        }),
      );
    });

    it(`computes tax per rate on the per-rate sum, half away from zero (${mode}, property)`, () => {
      fc.assert(
        fc.property(orderArb, ({ lines, orderDiscount }) => {
          const t = computeTotals(lines, orderDiscount, inclusive);
          const netByRate = new Map<string, { ppm: number; net: bigint }>();
          lines.forEach((l, i) => {
            const r = netByRate.get(l.taxRateId) ?? { ppm: l.taxPpm, net: 0n };
            r.net += BigInt(t.lines[i].net);
            netByRate.set(l.taxRateId, r);
          });
          const ids = [...netByRate.keys()].sort();
          assert.deepEqual(t.taxes.map((x) => x.taxRateId), ids);
          for (const x of t.taxes) {
            const { ppm, net } = netByRate.get(x.taxRateId) ?? assert.fail(`unexpected rate ${x.taxRateId}`);
            const P = BigInt(ppm);
            const M = BigInt(PPM);
            const expectedTax = inclusive ? refRound(net * P, M + P) : refRound(net * P, M);
            assert.equal(x.ppm, ppm);
            assert.equal(BigInt(x.tax), expectedTax, `tax of ${x.taxRateId}`);
            assert.equal(BigInt(x.base), inclusive ? net - expectedTax : net);
          }
        }),
      );
    });
  }
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

describe('splitMatrix', () => {
  it('keeps every part total and every component exact', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 8 }),
        (components, n) => {
          const total = components.reduce((s, c) => s + c, 0);
          const parts = splitEvenly(total, n);
          let cells: number[][];
          try {
            cells = splitMatrix(components, parts);
          } catch (err) {
            assert.match(String(err), /too small/);
            return;
          }
          cells.forEach((row, i) => assert.equal(row.reduce((s, v) => s + v, 0), parts[i]));
          components.forEach((c, j) => assert.equal(cells.reduce((s, row) => s + row[j], 0), c));
          cells.forEach((row) => row.forEach((v) => assert.ok(v >= 0)));
        },
      ),
    );
  });

  it('refuses parts that do not add up to the whole', () => {
    assert.throws(() => splitMatrix([100, 50], [100, 40]), /add up/);
  });
});

describe('cashTenderLooksMistyped', () => {
  it('refuses more than 100 × the amount due when that is above due + 1000 major units', () => {
    // 20.00 due in EUR: 100 × 20.00 = 2000.00 beats 20.00 + 1000.00
    assert.equal(cashTenderLooksMistyped(200_000, 2_000, 2), false, 'exactly 100 × due');
    assert.equal(cashTenderLooksMistyped(200_001, 2_000, 2), true, 'one cent over 100 × due');
  });

  it('refuses more than due + 1000 major units when that is above 100 × the amount due', () => {
    // 0.40 due: 0.40 + 1000.00 beats 100 × 0.40 = 40.00, so a 500 note for a coffee passes
    assert.equal(cashTenderLooksMistyped(50_000, 40, 2), false, 'a 500 note');
    assert.equal(cashTenderLooksMistyped(100_040, 40, 2), false, 'exactly due + 1000.00');
    assert.equal(cashTenderLooksMistyped(100_041, 40, 2), true, 'one cent over due + 1000.00');
  });

  it('counts the 1000 in major units of the currency\'s exponent', () => {
    assert.equal(cashTenderLooksMistyped(1_000, 0, 0), false, 'JPY: 1000 yen on nothing due');
    assert.equal(cashTenderLooksMistyped(1_001, 0, 0), true, 'JPY: 1001 yen');
    assert.equal(cashTenderLooksMistyped(1_000_000, 0, 3), false, 'KWD: 1000.000');
    assert.equal(cashTenderLooksMistyped(1_000_001, 0, 3), true, 'KWD: 1000.001');
  });

  it('refuses the 1e11 tender of issue 18 on any everyday amount, and takes ordinary notes', () => {
    for (const due of [1, 350, 12_345, 999_999]) {
      assert.equal(cashTenderLooksMistyped(100_000_000_000, due, 2), true, `1e11 on ${due}`);
      assert.equal(cashTenderLooksMistyped(due + 5_000, due, 2), false, `a 50 note on ${due}`);
    }
  });

  it('is exact at the edge for any safe amounts (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 11 }), fc.integer({ min: 0, max: 4 }), (due, exp) => {
        const limit = Math.max(100 * due, due + 1000 * 10 ** exp);
        assert.equal(cashTenderLooksMistyped(limit, due, exp), false);
        assert.equal(cashTenderLooksMistyped(limit + 1, due, exp), true);
      }),
    );
  });
});

describe('quickCash', () => {
  it('offers what is due, then the next 5, 10 and 20 notes above it, without repeats, by the currency\'s exponent', () => {
    assert.deepEqual(quickCash(1_230, 'EUR'), [1_230, 1_500, 2_000]); // 12.30 → 15, 20 (20 twice)
    assert.deepEqual(quickCash(2_000, 'EUR'), [2_000, 2_500, 3_000, 4_000]); // a round amount: the next note up
    assert.deepEqual(quickCash(1_230, 'JPY'), [1_230, 1_235, 1_240]); // exponent 0: 5, 10 and 20 yen
    assert.deepEqual(quickCash(1_234, 'BHD'), [1_234, 5_000, 10_000, 20_000]); // exponent 3: 1.234 BHD
  });
});
