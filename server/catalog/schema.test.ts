import assert from 'node:assert/strict';
import { modifierGroupForm, priceFrom, productForm, TaxRateForm } from './schema';

describe('catalog forms (server/catalog/schema.ts)', () => {
  it('reads a price in the currency\'s decimals, refusing more decimals, negatives and nonsense', () => {
    assert.equal(priceFrom('4.20', 'EUR'), 420);
    assert.equal(priceFrom('4,2', 'EUR'), 420);
    assert.equal(priceFrom('450', 'JPY'), 450);
    assert.equal(priceFrom('4.5', 'JPY'), undefined);
    assert.equal(priceFrom('4.205', 'EUR'), undefined);
    assert.equal(priceFrom('-1', 'EUR'), undefined);
    assert.equal(priceFrom('four', 'EUR'), undefined);
  });

  it('turns the product form into a product: ids, per-type tax rates, barcodes, checkboxes', () => {
    const p = productForm('EUR').parse({
      name: ' Lemon tart ', category_id: '3', price: '4.50', tax_rate_id: '2', tax_rate_takeaway: '1', tax_rate_dine_in: '', tax_rate_counter: '',
      sku: '', barcodes: '2000000000015, 2000000000015 ABC-1234', station_id: '', modifier_group_ids: ['4', '5'], available: 'on', position: '2', low_stock_at: '',
    });
    assert.deepEqual(p, {
      name: 'Lemon tart', categoryId: 3, price: 450, taxRateId: 2, taxRateByType: { takeaway: 1 }, sku: null, barcodes: ['2000000000015', 'ABC-1234'],
      stationId: null, modifierGroupIds: [4, 5], available: true, openPrice: false, active: false, position: 2, trackStock: false, lowStockAt: null,
    });
    const bad = productForm('EUR').safeParse({ name: '', category_id: 'x', price: '1.234', tax_rate_id: '1', barcodes: 'no!' });
    assert.equal(bad.success, false);
    assert.deepEqual(bad.error!.issues.map((i) => i.path[0]).sort(), ['barcodes', 'category_id', 'name', 'price']);
  });

  it('reads modifier options one per line as "Name" or "Name, price change"', () => {
    const g = modifierGroupForm('EUR').parse({ name: 'Sauce', min_select: '0', max_select: '2', options: 'Ketchup\r\n\nMayo, 0.30\nAioli; -0.10' });
    assert.deepEqual(g.options, [{ name: 'Ketchup', priceDelta: 0 }, { name: 'Mayo', priceDelta: 30 }, { name: 'Aioli', priceDelta: -10 }]);
    assert.equal(modifierGroupForm('EUR').safeParse({ name: 'X', options: 'A\na' }).success, false, 'an option twice');
    assert.equal(modifierGroupForm('EUR').safeParse({ name: 'X', options: '' }).success, false, 'no options');
    assert.equal(modifierGroupForm('EUR').safeParse({ name: 'X', min_select: '3', max_select: '1', options: 'A' }).success, false);
  });

  it('reads a tax rate as a percent into ppm', () => {
    assert.equal(TaxRateForm.parse({ name: 'Reduced', rate: '5.5' }).rate, 55_000);
    assert.equal(TaxRateForm.parse({ name: 'Standard', rate: '20' }).rate, 200_000);
    assert.equal(TaxRateForm.safeParse({ name: 'Silly', rate: '101' }).success, false);
  });
});
