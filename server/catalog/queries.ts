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

export function findProduct(db: DbOrTrx, id: number): Promise<(ProductRow & { tax_name: string; tax_ppm: number }) | undefined> {
  return db('products as p').join('tax_rates as r', 'r.id', 'p.tax_rate_id').where('p.id', id).first('p.*', 'r.name as tax_name', 'r.rate_ppm as tax_ppm');
}

/** A product's modifier groups with their options, in one query. */
export async function productModifierGroups(db: DbOrTrx, productId: number): Promise<ModifierGroup[]> {
  const rows: Array<{ id: number; name: string; min_select: number; max_select: number; required: boolean; m_id: number | null; m_name: string; m_delta: number }> = await db('product_modifier_groups as pg')
    .join('modifier_groups as g', 'g.id', 'pg.group_id')
    .leftJoin('modifiers as m', 'm.group_id', 'g.id')
    .where('pg.product_id', productId)
    .orderBy(['pg.position', 'm.position', 'm.id'])
    .select('g.id', 'g.name', 'g.min_select', 'g.max_select', 'g.required', 'm.id as m_id', 'm.name as m_name', 'm.price_delta as m_delta');
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
