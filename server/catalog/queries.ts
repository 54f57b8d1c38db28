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

export function findProduct(db: DbOrTrx, id: number): Promise<ProductRow | undefined> {
  return db('products').where({ id }).first();
}

export async function productModifierGroups(db: DbOrTrx, productId: number): Promise<ModifierGroup[]> {
  const groups = await db('product_modifier_groups as pg')
    .join('modifier_groups as g', 'g.id', 'pg.group_id')
    .where('pg.product_id', productId)
    .orderBy('pg.position')
    .select('g.id', 'g.name', 'g.min_select', 'g.max_select', 'g.required');
  if (!groups.length) return [];
  const mods = await db('modifiers')
    .whereIn('group_id', groups.map((g: { id: number }) => g.id))
    .orderBy(['position', 'id'])
    .select('id', 'group_id', 'name', 'price_delta');
  return groups.map((g: { id: number; name: string; min_select: number; max_select: number; required: boolean }) => ({
    id: g.id,
    name: g.name,
    min: g.min_select,
    max: g.max_select,
    required: g.required || g.min_select > 0,
    modifiers: mods
      .filter((m: { group_id: number }) => m.group_id === g.id)
      .map((m: { id: number; name: string; price_delta: number }) => ({ id: m.id, name: m.name, priceDelta: m.price_delta })),
  }));
}

export function findTaxRate(db: DbOrTrx, id: number) {
  return db('tax_rates').where({ id }).first() as Promise<{ id: number; name: string; rate_ppm: number } | undefined>;
}
