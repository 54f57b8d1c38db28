import type { DbOrTrx } from '../db/knex';

export interface ProductRow {
  id: number;
  name: string;
  category_id: number;
  price: number;
  tax_rate_id: number;
  sku: string | null;
  station_id: number | null;
  active: boolean;
  available: boolean;
  open_price: boolean;
  position: number;
}

export interface ModifierGroup {
  id: number;
  name: string;
  min: number;
  max: number;
  required: boolean;
  modifiers: Array<{ id: number; name: string; priceDelta: number }>;
}

export function listCategories(db: DbOrTrx) {
  return db('categories').where({ active: true }).orderBy(['position', 'id']).select('id', 'name', 'colour');
}

/** Active products for the grid: by category, or matching a search by name, SKU or barcode. */
export async function listProducts(db: DbOrTrx, filter: { categoryId?: number; search?: string }) {
  const q = db('products as p')
    .where('p.active', true)
    .select('p.*')
    .select(db.raw('exists (select 1 from product_modifier_groups g where g.product_id = p.id) as has_modifiers'))
    .orderBy(['p.position', 'p.id'])
    .limit(200);
  if (filter.categoryId) q.where('p.category_id', filter.categoryId);
  if (filter.search) {
    const term = filter.search.trim();
    const like = `%${term.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
    q.where((w) =>
      w
        .whereILike('p.name', like)
        .orWhere('p.sku', term)
        .orWhereExists((e) => e.select(1).from('product_barcodes as b').whereRaw('b.product_id = p.id').andWhere('b.barcode', term)),
    );
  }
  return q as Promise<Array<ProductRow & { has_modifiers: boolean }>>;
}

export type OrderType = 'counter' | 'takeaway' | 'dine_in';

/**
 * A product with the tax rate it is sold at: for an order of `orderType`, its rate for that type
 * where it has one (product_tax_rates: EU VAT on eat-in against take-away), else its own.
 */
export function findProduct(db: DbOrTrx, id: number, orderType?: OrderType): Promise<(ProductRow & { tax_name: string; tax_ppm: number }) | undefined> {
  if (!orderType) return db('products as p').join('tax_rates as r', 'r.id', 'p.tax_rate_id').where('p.id', id).first('p.*', 'r.name as tax_name', 'r.rate_ppm as tax_ppm');
  return db('products as p')
    .leftJoin('product_tax_rates as pt', (j) => j.on('pt.product_id', 'p.id').andOn('pt.order_type', db.raw('?', [orderType])))
    .join('tax_rates as r', 'r.id', db.raw('coalesce(pt.tax_rate_id, p.tax_rate_id)'))
    .where('p.id', id)
    .first('p.*', 'r.id as tax_rate_id', 'r.name as tax_name', 'r.rate_ppm as tax_ppm');
}

/** The tax rate each of `productIds` is sold at in an order of `orderType` (its rate for that type, else its own). */
export async function taxRatesFor(db: DbOrTrx, productIds: number[], orderType: OrderType): Promise<Map<number, { id: number; name: string; ppm: number }>> {
  if (!productIds.length) return new Map();
  const rows: Array<{ product_id: number; id: number; name: string; ppm: number }> = await db('products as p')
    .leftJoin('product_tax_rates as pt', (j) => j.on('pt.product_id', 'p.id').andOn('pt.order_type', db.raw('?', [orderType])))
    .join('tax_rates as r', 'r.id', db.raw('coalesce(pt.tax_rate_id, p.tax_rate_id)'))
    .whereIn('p.id', productIds)
    .select('p.id as product_id', 'r.id', 'r.name', 'r.rate_ppm as ppm');
  return new Map(rows.map((r) => [r.product_id, { id: r.id, name: r.name, ppm: r.ppm }]));
}

type GroupRow = { id: number; name: string; min_select: number; max_select: number; required: boolean; m_id: number | null; m_name: string; m_delta: number };

function groupsFromRows(rows: GroupRow[]): ModifierGroup[] {
  const groups = new Map<number, ModifierGroup>();
  for (const r of rows) {
    let g = groups.get(r.id);
    if (!g) {
      g = { id: r.id, name: r.name, min: r.min_select, max: r.max_select, required: r.required || r.min_select > 0, modifiers: [] };
      groups.set(r.id, g);
    }
    if (r.m_id !== null) g.modifiers.push({ id: r.m_id, name: r.m_name, priceDelta: r.m_delta });
  }
  return [...groups.values()];
}

/** A product's modifier groups with their options, in one query. */
export async function productModifierGroups(db: DbOrTrx, productId: number): Promise<ModifierGroup[]> {
  const rows: GroupRow[] = await db('product_modifier_groups as pg')
    .join('modifier_groups as g', 'g.id', 'pg.group_id')
    .leftJoin('modifiers as m', 'm.group_id', 'g.id')
    .where('pg.product_id', productId)
    .orderBy(['pg.position', 'm.position', 'm.id'])
    .select('g.id', 'g.name', 'g.min_select', 'g.max_select', 'g.required', 'm.id as m_id', 'm.name as m_name', 'm.price_delta as m_delta');
  return groupsFromRows(rows);
}

/**
 * A product with its tax rate and its modifier groups as one row (modifier rows as JSON in
 * x_groups), for the product whose id is the statement's `?`. Also a subquery of the statement
 * that locks an order for a new line.
 */
export const PRODUCT_WITH_GROUPS_SQL = `select p.*, r.name as tax_name, r.rate_ppm as tax_ppm,
       coalesce((
         select json_agg(json_build_object('id', g.id, 'name', g.name, 'min_select', g.min_select, 'max_select', g.max_select, 'required', g.required,
                                           'm_id', m.id, 'm_name', m.name, 'm_delta', m.price_delta) order by pg.position, m.position, m.id)
         from product_modifier_groups pg join modifier_groups g on g.id = pg.group_id left join modifiers m on m.group_id = g.id
         where pg.product_id = p.id), '[]') as x_groups
     from products p join tax_rates r on r.id = p.tax_rate_id where p.id = ?`;

export type ProductWithGroups = { product: ProductRow & { tax_name: string; tax_ppm: number }; groups: ModifierGroup[] };

/** A row PRODUCT_WITH_GROUPS_SQL returned (or its JSON), as the product and its groups. */
export function productWithGroups(row: (ProductRow & { tax_name: string; tax_ppm: number; x_groups: GroupRow[] }) | null | undefined): ProductWithGroups | undefined {
  if (!row) return undefined;
  const { x_groups, ...product } = row;
  return { product, groups: groupsFromRows(x_groups) };
}
