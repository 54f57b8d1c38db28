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
