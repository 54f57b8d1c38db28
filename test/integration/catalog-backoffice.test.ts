import assert from 'node:assert/strict';
import { bootApp, type TestApp } from '../helpers/app';
import { pairedClient, PINS, type Client } from '../helpers/client';
import { createTestDb, type TestDb } from '../helpers/pg';
import { counts, seedStore } from '../helpers/store';
import { addLine, openOrder } from '../../server/orders/service';

/**
 * The back office's catalog (issue 24) over real HTTP as the owner: products made and changed
 * through their form (a new price for lines added after it, audited with the staff member), a
 * tax rate per order type (an order changing type is taxed again), bulk prices, and the CSV
 * import: a report line by line, nothing imported when a row fails unless asked.
 */
describe('catalog in the back office: products, prices, tax per order type, CSV', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let owner: Client;
  let ownerId: number;
  let rates: { reduced: number; standard: number };
  let cakes: number;

  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    app = await bootApp(t.db);
    owner = await pairedClient(app, { pin: PINS.owner, name: 'Back office' });
    ownerId = (await t.db('staff').where({ role: 'owner' }).first('id')).id;
    const r = await t.db('tax_rates').select('id', 'name');
    rates = { reduced: r.find((x) => x.name.startsWith('Reduced'))!.id, standard: r.find((x) => x.name.startsWith('Standard'))!.id };
    cakes = (await t.db('categories').where({ name: 'Cakes & pastries' }).first('id')).id;
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()
    .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  const deps = () => ({ db: t.db, clock: app.clock, events: app.events });
  const productForm = (over: Record<string, string | string[]> = {}) => ({
    name: 'Lemon tart', category_id: String(cakes), price: '4.50', tax_rate_id: String(rates.standard), tax_rate_takeaway: String(rates.reduced),
    sku: 'TART-LEMON', barcodes: '2000000000015', station_id: '', available: 'on', active: 'on', position: '3', low_stock_at: '', ...over,
  });

  it('makes a product through the form, refuses a bad one field by field, and lists it', async () => {
    assert.equal((await owner.get('/backoffice/products/new', { htmx: false })).status, 200);
    const bad = await owner.post('/backoffice/products', productForm({ name: '', price: '4.5.0' }));
    assert.equal(bad.status, 400);
    assert.match(bad.text, /aria-invalid="true" aria-describedby="name-error"/);
    assert.match(bad.text, /id="price-error"/);
    assert.equal(await t.db('products').where({ name: 'Lemon tart' }).first(), undefined);
    const made = await owner.post('/backoffice/products', productForm());
    assert.equal(made.status, 204, made.text.slice(0, 400));
    const p = await t.db('products').where({ name: 'Lemon tart' }).first();
    assert.deepEqual([p.price, p.sku, p.tax_rate_id], [450, 'TART-LEMON', rates.standard]);
    const list = await owner.get(`/backoffice/products?category=${cakes}`, { htmx: false });
    assert.match(text(list.text), /Lemon tart TART-LEMON Cakes & pastries €4\.50/);
  });

  it('a price change applies to lines added after it; lines on orders keep theirs; the change is audited with the staff member', async () => {
    const p = await t.db('products').where({ name: 'Lemon tart' }).first('id');
    const order = await openOrder(deps(), { type: 'counter' });
    await addLine(deps(), order.id, { productId: p.id, quantity: 1, modifierIds: [], note: null });
    const r = await owner.post(`/backoffice/products/${p.id}`, productForm({ price: '4.90' }));
    assert.equal(r.status, 204, r.text.slice(0, 400));
    await addLine(deps(), order.id, { productId: p.id, quantity: 1, modifierIds: [], note: null });
    const lines = await t.db('order_lines').where({ order_id: order.id }).orderBy('id').pluck('unit_price');
    assert.deepEqual(lines, [450, 490]);
    const audit = await t.db('audit_log').where({ action: 'price_changed' }).orderBy('id', 'desc').first();
    assert.equal(audit.staff_id, ownerId);
    assert.deepEqual({ productId: audit.details.productId, from: audit.details.from, to: audit.details.to }, { productId: p.id, from: 450, to: 490 });
    const page = await owner.get(`/backoffice/audit?action=price_changed&staff=${ownerId}`, { htmx: false });
    assert.match(text(page.text), /Price changed Olivia \(owner\)/);
  });

  it('an order changing type is taxed at the product\'s rate for that type (eat-in against take-away)', async () => {
    const p = await t.db('products').where({ name: 'Lemon tart' }).first('id');
    const r = await owner.post('/orders', { type: 'counter' });
    const id = Number(/\/orders\/(\d+)/.exec(r.headers.get('HX-Redirect') ?? '')![1]);
    assert.equal((await owner.post(`/orders/${id}/lines`, { product_id: String(p.id) })).status, 200);
    const line = () => t.db('order_lines').where({ order_id: id }).first('tax_rate_id', 'tax_ppm');
    const taxTotal = async () => (await t.db('orders').where({ id }).first('tax_total')).tax_total;
    assert.deepEqual(await line(), { tax_rate_id: rates.standard, tax_ppm: 190_000 });
    assert.equal(await taxTotal(), 78); // 4.90 incl. 19 %
    assert.equal((await owner.post(`/orders/${id}/type`, { type: 'takeaway' })).status, 200);
    assert.deepEqual(await line(), { tax_rate_id: rates.reduced, tax_ppm: 70_000 });
    assert.equal(await taxTotal(), 32); // 4.90 incl. 7 %
    assert.equal((await owner.post(`/orders/${id}/type`, { type: 'counter' })).status, 200);
    assert.equal(await taxTotal(), 78);
    // a line added to a take-away order takes the take-away rate at once
    await owner.post(`/orders/${id}/type`, { type: 'takeaway' });
    await owner.post(`/orders/${id}/lines`, { product_id: String(p.id) });
    assert.deepEqual((await t.db('order_lines').where({ order_id: id }).pluck('tax_ppm')), [70_000, 70_000]);
  });

  it('changes every price of a category by a percent in one go, each audited', async () => {
    const before = await t.db('products').where({ category_id: cakes, open_price: false }).orderBy('id').select('id', 'price');
    const r = await owner.post('/backoffice/products-bulk-price', { category_id: String(cakes), kind: 'percent', value: '10' });
    assert.equal(r.status, 204, r.text.slice(0, 400));
    const after = await t.db('products').whereIn('id', before.map((p) => p.id)).orderBy('id').pluck('price');
    assert.deepEqual(after, before.map((p) => Math.round(p.price * 1.1)));
    const bad = await owner.post('/backoffice/products-bulk-price', { category_id: String(cakes), kind: 'percent', value: 'lots' });
    assert.equal(bad.status, 400);
    assert.deepEqual(await t.db('products').whereIn('id', before.map((p) => p.id)).orderBy('id').pluck('price'), after);
  });

  it('a CSV import with bad rows names each bad row and field, and imports nothing', async () => {
    const csv = [
      'name,category,price,tax_rate,sku,barcodes,modifier_groups',
      'Plum cake,Cakes & pastries,4.20,Standard 19%,PLUM-1,,',
      'Fig roll,Cakes & pastries,four,Standard 19%,FIG-1,,',
      'Oat cookie,Cookies,2.10,Zero rate,OAT-1,,',
      'Rye bread,Bread,5.00,Reduced 7%,RYE-1,2000000000015,',
      'Scone,Cakes & pastries,3.00,Standard 19%,SCONE-1,,Sauces',
      'Bun,Cakes & pastries,2.00,Standard 19%,PLUM-1,,',
    ].join('\n');
    const before = await counts(t.db, 'products', 'categories', 'audit_log');
    await owner.get('/backoffice/catalog/import', { htmx: false });
    const r = await owner.post('/backoffice/catalog/import', { csv });
    assert.equal(r.status, 422, r.text.slice(0, 400));
    const rows = [...r.text.matchAll(/<tr class="import-row( import-error)?" data-line="(\d+)">([\s\S]*?)<\/tr>/g)].map((m) => ({ bad: Boolean(m[1]), line: Number(m[2]), text: text(m[3]) }));
    assert.deepEqual(rows.filter((x) => x.bad).map((x) => x.line), [3, 4, 5, 6, 7]);
    const said = Object.fromEntries(rows.map((x) => [x.line, x.text]));
    assert.match(said[3], /price: "four" is not a price/);
    assert.match(said[4], /tax_rate: no tax rate is named "Zero rate"/);
    assert.match(said[5], /barcodes: 2000000000015 is Lemon tart's/);
    assert.match(said[6], /modifier_groups: no modifier group is named "Sauces"/);
    assert.match(said[7], /sku: is also on line 2/);
    assert.match(said[2], /OK/);
    assert.match(text(r.text), /5 of 6 rows are wrong: nothing was imported/);
    assert.deepEqual(await counts(t.db, 'products', 'categories', 'audit_log'), before, 'nothing written, not even the new categories');
  });

  it('with "import the valid rows" the good rows go in and the report still names the bad ones', async () => {
    const csv = 'name,category,price,tax_rate,sku\nPlum cake,Loaves,4.20,Standard 19%,PLUM-1\nFig roll,Cakes & pastries,four,Standard 19%,FIG-1\n';
    const r = await owner.post('/backoffice/catalog/import', { csv, valid_only: 'on' });
    assert.equal(r.status, 200, r.text.slice(0, 400));
    assert.match(text(r.text), /1 row imported; 1 wrong row left out/);
    const plum = await t.db('products as p').join('categories as c', 'c.id', 'p.category_id').where('p.sku', 'PLUM-1').first('p.price', 'c.name as category');
    assert.deepEqual(plum, { price: 420, category: 'Loaves' });
    assert.equal(await t.db('products').where({ sku: 'FIG-1' }).first(), undefined);
    const audit = await t.db('audit_log').where({ action: 'catalog_imported' }).orderBy('id', 'desc').first();
    assert.equal(audit.staff_id, ownerId);
  });

  it('exports the catalog as CSV that imports back unchanged', async () => {
    const exported = await owner.get('/backoffice/catalog/export.csv', { htmx: false });
    assert.equal(exported.status, 200);
    assert.match(exported.headers.get('content-type') ?? '', /text\/csv/);
    assert.match(exported.text.split('\r\n')[0], /^id,name,category,price,tax_rate,/);
    assert.match(exported.text, /,Lemon tart,Cakes & pastries,5\.39,Standard 19%,,Reduced 7%,,TART-LEMON,2000000000015,/);
    const before = await t.db('products').orderBy('id').select('*');
    const r = await owner.post('/backoffice/catalog/import', { csv: exported.text });
    assert.equal(r.status, 200, text(r.text).slice(0, 600));
    assert.deepEqual(await t.db('products').orderBy('id').select('*'), before);
  });

  it('edits categories, tax rates and modifier groups; a modifier group reaches a product', async () => {
    assert.equal((await owner.post('/backoffice/categories', { name: 'Specials', position: '9', colour: '#aa3300' })).status, 204);
    const cat = await t.db('categories').where({ name: 'Specials' }).first();
    assert.deepEqual([cat.position, cat.colour, cat.active], [9, '#aa3300', true]);
    assert.equal((await owner.post('/backoffice/categories', { name: 'specials', position: '1', colour: '#aa3300' })).status, 400, 'names are unique');
    assert.equal((await owner.post('/backoffice/tax-rates', { name: 'Zero', rate: '0' })).status, 204);
    assert.equal((await owner.post('/backoffice/tax-rates', { name: 'Silly', rate: '120' })).status, 400);
    const g = await owner.post('/backoffice/modifier-groups', { name: 'Sauce', min_select: '1', max_select: '1', options: 'Ketchup\nMayo, 0.30\nAioli, -0.10' });
    assert.equal(g.status, 204, g.text.slice(0, 400));
    const group = await t.db('modifier_groups').where({ name: 'Sauce' }).first();
    assert.equal(group.required, true);
    assert.deepEqual(await t.db('modifiers').where({ group_id: group.id }).orderBy('position').select('name', 'price_delta'), [
      { name: 'Ketchup', price_delta: 0 }, { name: 'Mayo', price_delta: 30 }, { name: 'Aioli', price_delta: -10 },
    ]);
    const page = await owner.get('/backoffice/modifier-groups', { htmx: false });
    assert.match(page.text, /Mayo, 0\.30\nAioli, -0\.10/);
    const bad = await owner.post('/backoffice/modifier-groups', { name: 'Broken', min_select: '2', max_select: '1', options: '' });
    assert.equal(bad.status, 400);
  });
});
