import type { Clock } from '../clock';
import { inTransaction, type Db, type DbOrTrx, type Trx } from '../db/knex';
import { audit } from '../audit/service';
import { invalid, notFound, type FieldIssue } from '../errors';
import type { Publisher } from '../events';
import { ORDER_TYPES, type ProductInput } from './schema';
import type { OrderType } from './queries';

/** Products as the back office (and the API, and the CSV import) makes and changes them. */

export interface CatalogDeps {
  db: Db;
  clock: Clock;
  events: Publisher;
}

/** Who made a change: the audit log's staff member, terminal and approver. */
export interface Who {
  staffId: number | null;
  terminalId?: number | null;
  approvedBy?: number | null;
}

/**
 * What is wrong with `p` against the catalog as it is: unknown category, tax rate, station or
 * modifier group, a SKU or barcode another product has. One issue per field, in the field's
 * name as the forms use it; empty when it may be saved.
 */
export async function productIssues(db: DbOrTrx, p: ProductInput, selfId?: number): Promise<FieldIssue[]> {
  const issues: FieldIssue[] = [];
  if (!(await db('categories').where({ id: p.categoryId }).first('id'))) issues.push({ field: 'category_id', message: 'no such category' });
  const rateIds = [p.taxRateId, ...Object.values(p.taxRateByType)];
  const rates = new Set((await db('tax_rates').whereIn('id', rateIds).pluck('id')).map(Number));
  if (!rates.has(p.taxRateId)) issues.push({ field: 'tax_rate_id', message: 'no such tax rate' });
  for (const t of ORDER_TYPES) {
    const r = p.taxRateByType[t];
    if (r !== undefined && !rates.has(r)) issues.push({ field: `tax_rate_${t}`, message: 'no such tax rate' });
  }
  if (p.stationId !== null && !(await db('stations').where({ id: p.stationId }).first('id'))) issues.push({ field: 'station_id', message: 'no such station' });
  if (p.modifierGroupIds.length) {
    const found = await db('modifier_groups').whereIn('id', p.modifierGroupIds).pluck('id');
    if (found.length !== new Set(p.modifierGroupIds).size) issues.push({ field: 'modifier_group_ids', message: 'no such modifier group' });
  }
  if (p.sku !== null) {
    const other = await db('products').where({ sku: p.sku }).modify((q) => { if (selfId) q.whereNot({ id: selfId }); }).first('name');
    if (other) issues.push({ field: 'sku', message: `already used by ${other.name}` });
  }
  if (p.barcodes.length) {
    const taken = await db('product_barcodes as b').join('products as p', 'p.id', 'b.product_id').whereIn('b.barcode', p.barcodes)
      .modify((q) => { if (selfId) q.whereNot('b.product_id', selfId); }).select('b.barcode', 'p.name');
    if (taken.length) issues.push({ field: 'barcodes', message: taken.map((t: { barcode: string; name: string }) => `${t.barcode} is ${t.name}'s`).join('; ') });
  }
  return issues;
}

/** A new product (after productIssues), in the caller's transaction. Returns its id. */
export async function createProductIn(trx: Trx, clock: Clock, p: ProductInput, who: Who): Promise<number> {
  await refuseIssues(trx, p);
  const [row] = await trx('products').insert({ ...columns(p), stock: p.trackStock ? 0 : null }).returning('id');
  await writeLinks(trx, row.id, p);
  await audit(trx, clock, { ...auditWho(who), action: 'catalog_changed', details: { productId: row.id, product: p.name, created: { ...p } } });
  return Number(row.id);
}

/**
 * Changes a product, in the caller's transaction. Lines already on orders keep their price
 * (an order line is a snapshot): a new price applies to lines added after it. A price change is
 * audited on its own (price_changed), every other change as catalog_changed with from → to.
 */
export async function updateProductIn(trx: Trx, clock: Clock, id: number, p: ProductInput, who: Who): Promise<void> {
  const before = await productInput(trx, id);
  await refuseIssues(trx, p, id);
  const stock = await trx('products').where({ id }).first('stock');
  await trx('products').where({ id }).update({ ...columns(p), stock: p.trackStock ? (stock.stock ?? 0) : null });
  await writeLinks(trx, id, p);
  const changed = (Object.keys(p) as Array<keyof ProductInput>).filter((k) => k !== 'price' && JSON.stringify(p[k]) !== JSON.stringify(before[k]));
  if (p.price !== before.price) {
    await audit(trx, clock, { ...auditWho(who), action: 'price_changed', details: { productId: id, product: p.name, from: before.price, to: p.price } });
  }
  if (changed.length) {
    await audit(trx, clock, { ...auditWho(who), action: 'catalog_changed', details: { productId: id, product: p.name, changes: Object.fromEntries(changed.map((k) => [k, { from: before[k], to: p[k] }])) } });
  }
}

export async function createProduct(deps: CatalogDeps, p: ProductInput, who: Who): Promise<number> {
  const id = await inTransaction(deps.db, (trx) => createProductIn(trx, deps.clock, p, who));
  deps.events.publish('catalog:changed', {});
  return id;
}

export async function updateProduct(deps: CatalogDeps, id: number, p: ProductInput, who: Who): Promise<void> {
  await inTransaction(deps.db, async (trx) => {
    await trx('products').where({ id }).forUpdate().first('id'); // two editors of one product take turns
    await updateProductIn(trx, deps.clock, id, p, who);
  });
  deps.events.publish('catalog:changed', {});
}

/** A product as the form and the API show it (404 when there is none; inactive ones too unless `activeOnly`). */
export async function productInput(db: DbOrTrx, id: number, activeOnly = false): Promise<ProductInput & { id: number; stock: number | null }> {
  const row = await db('products').where({ id }).modify((q) => { if (activeOnly) q.where({ active: true }); }).first();
  if (!row) throw notFound('That product');
  // one after another: `db` may be a transaction, which runs one statement at a time
  const codes = await db('product_barcodes').where({ product_id: id }).orderBy('barcode').pluck('barcode');
  const types = await db('product_tax_rates').where({ product_id: id }).select('order_type', 'tax_rate_id');
  const groups = await db('product_modifier_groups').where({ product_id: id }).orderBy(['position', 'group_id']).pluck('group_id');
  return {
    id: Number(row.id), name: row.name, categoryId: Number(row.category_id), price: Number(row.price), taxRateId: Number(row.tax_rate_id),
    taxRateByType: Object.fromEntries(types.map((t: { order_type: OrderType; tax_rate_id: number }) => [t.order_type, Number(t.tax_rate_id)])),
    sku: row.sku, barcodes: codes, stationId: row.station_id === null ? null : Number(row.station_id), modifierGroupIds: groups.map(Number),
    available: row.available, openPrice: row.open_price, active: row.active, position: row.position,
    trackStock: row.stock !== null, lowStockAt: row.low_stock_at, stock: row.stock,
  };
}

/** Every product for the back office's list (inactive ones too), with category, tax and stock. */
export function listAllProducts(db: DbOrTrx, filter: { categoryId?: number; search?: string } = {}) {
  const q = db('products as p').join('categories as c', 'c.id', 'p.category_id').join('tax_rates as r', 'r.id', 'p.tax_rate_id')
    .orderBy(['c.position', 'c.id', 'p.position', 'p.id'])
    .select('p.id', 'p.name', 'p.price', 'p.sku', 'p.active', 'p.available', 'p.open_price', 'p.stock', 'p.low_stock_at', 'c.name as category', 'r.name as tax_name');
  if (filter.categoryId) q.where('p.category_id', filter.categoryId);
  if (filter.search) q.whereILike('p.name', `%${filter.search.replace(/[\\%_]/g, (c) => '\\' + c)}%`);
  return q as Promise<Array<{ id: number; name: string; price: number; sku: string | null; active: boolean; available: boolean; open_price: boolean; stock: number | null; low_stock_at: number | null; category: string; tax_name: string }>>;
}

async function refuseIssues(trx: Trx, p: ProductInput, selfId?: number) {
  const issues = await productIssues(trx, p, selfId);
  if (issues.length) throw invalid(issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues);
}

const columns = (p: ProductInput) => ({
  name: p.name, category_id: p.categoryId, price: p.price, tax_rate_id: p.taxRateId, sku: p.sku, station_id: p.stationId,
  available: p.available, open_price: p.openPrice, active: p.active, position: p.position, low_stock_at: p.lowStockAt,
});

async function writeLinks(trx: Trx, id: number, p: ProductInput) {
  await trx('product_barcodes').where({ product_id: id }).delete();
  if (p.barcodes.length) await trx('product_barcodes').insert(p.barcodes.map((barcode) => ({ barcode, product_id: id })));
  await trx('product_tax_rates').where({ product_id: id }).delete();
  const types = ORDER_TYPES.flatMap((t) => (p.taxRateByType[t] === undefined ? [] : [{ product_id: id, order_type: t, tax_rate_id: p.taxRateByType[t] }]));
  if (types.length) await trx('product_tax_rates').insert(types);
  await trx('product_modifier_groups').where({ product_id: id }).delete();
  const groups = [...new Set(p.modifierGroupIds)];
  if (groups.length) await trx('product_modifier_groups').insert(groups.map((group_id, position) => ({ product_id: id, group_id, position })));
}

const auditWho = (who: Who) => ({ staffId: who.staffId, terminalId: who.terminalId ?? null, approvedBy: who.approvedBy ?? null });
