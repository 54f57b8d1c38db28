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
