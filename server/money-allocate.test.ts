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
