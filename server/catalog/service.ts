import type { DbOrTrx } from '../db/knex';
import { unprocessable } from '../errors';
import { findProduct, productModifierGroups, type ModifierGroup, type OrderType, type ProductRow, type ProductWithGroups } from './queries';

// What other features (orders, the API) read of the catalog: they reach it through this service,
// never ./queries (ARCHITECTURE; test/import-boundaries.test.ts).
export { listCategories, listProducts, PRODUCT_WITH_GROUPS_SQL, productModifierGroups, productWithGroups, taxRatesFor } from './queries';
export type { ModifierGroup, OrderType, ProductRow, ProductWithGroups } from './queries';

export interface ChosenModifier {
  id: number;
  groupName: string;
  name: string;
  priceDelta: number;
}

/** A sellable product, or a clear refusal: unknown, inactive, or 86'd (unavailable). */
export async function sellableProduct(db: DbOrTrx, productId: number): Promise<ProductRow & { tax_name: string; tax_ppm: number }> {
  return assertSellable(await findProduct(db, productId), productId);
}

function assertSellable<P extends ProductRow>(p: P | undefined, productId: number): P {
  if (!p || !p.active) throw unprocessable(`There is no product with id ${productId}.`, 'unknown-product');
  if (!p.available) throw unprocessable(`${p.name} is not available right now.`, 'unavailable-product');
  return p;
}

/** A sellable product and the modifiers chosen for it, checked against its groups (read by PRODUCT_WITH_GROUPS_SQL). */
export function chosenSellable(found: ProductWithGroups | undefined, productId: number, modifierIds: number[]) {
  const product = assertSellable(found?.product, productId);
  return { product, modifiers: chooseModifiers(product, found!.groups, modifierIds) };
}

/**
 * Checks chosen modifier ids against the product's groups: each id must belong to one of them,
 * none twice, and each group's count must be within its min and max.
 */
function chooseModifiers(product: ProductRow, groups: ModifierGroup[], modifierIds: number[]): ChosenModifier[] {
  const byId = new Map<number, { group: ModifierGroup; mod: ModifierGroup['modifiers'][number] }>();
  for (const g of groups) for (const m of g.modifiers) byId.set(m.id, { group: g, mod: m });
  if (new Set(modifierIds).size !== modifierIds.length) throw unprocessable('The same option was chosen twice.', 'modifier-choice');
  const chosen: ChosenModifier[] = [];
  const counts = new Map<number, number>();
  for (const id of modifierIds) {
    const hit = byId.get(id);
    if (!hit) throw unprocessable(`Option ${id} does not belong to ${product.name}.`, 'modifier-choice');
    counts.set(hit.group.id, (counts.get(hit.group.id) ?? 0) + 1);
    chosen.push({ id, groupName: hit.group.name, name: hit.mod.name, priceDelta: hit.mod.priceDelta });
  }
  for (const g of groups) {
    const n = counts.get(g.id) ?? 0;
    if (n < g.min) throw unprocessable(`${g.name}: choose at least ${g.min}.`, 'modifier-choice');
    if (n > g.max) throw unprocessable(`${g.name}: choose at most ${g.max}.`, 'modifier-choice');
  }
  return chosen;
}

/** A product with its tax rate (for an order of `orderType`, its rate for that type) and its modifier groups (undefined: no such product). */
export async function productWithGroupsById(db: DbOrTrx, productId: number, orderType?: OrderType): Promise<ProductWithGroups | undefined> {
  const product = await findProduct(db, productId, orderType);
  return product && { product, groups: await productModifierGroups(db, productId) };
}
