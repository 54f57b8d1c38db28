import { inTransaction, type DbOrTrx, type Trx } from '../db/knex';
import { audit } from '../audit/service';
import { conflict, invalid, notFound } from '../errors';
import { add, applyRate, currencyExponent, parseDecimal } from '../money';
import type { CatalogDeps, Who } from './products';
import { MAX_PRICE, type CategoryInput, type ModifierGroupInput } from './schema';

/** Categories, tax rates, modifier groups and bulk price changes: each one transaction, audited, then terminals told. */

const who = (w: Who) => ({ staffId: w.staffId, terminalId: w.terminalId ?? null, approvedBy: w.approvedBy ?? null });

async function change<T>(deps: CatalogDeps, fn: (trx: Trx) => Promise<T>): Promise<T> {
  const out = await inTransaction(deps.db, fn);
  deps.events.publish('catalog:changed', {});
  return out;
}

async function uniqueName(trx: Trx, table: string, name: string, selfId?: number) {
  const other = await trx(table).whereRaw('lower(name) = lower(?)', [name]).modify((q) => { if (selfId) q.whereNot({ id: selfId }); }).first('id');
  if (other) throw invalid(`There is already one named ${name}.`, [{ field: 'name', message: 'is already used' }]);
}

export function saveCategory(deps: CatalogDeps, input: CategoryInput, by: Who, id?: number): Promise<number> {
  return change(deps, async (trx) => {
    await uniqueName(trx, 'categories', input.name, id);
    if (id) {
      const before = await trx('categories').where({ id }).forUpdate().first();
      if (!before) throw notFound('That category');
      await trx('categories').where({ id }).update(input);
      await audit(trx, deps.clock, { ...who(by), action: 'catalog_changed', details: { categoryId: id, from: { name: before.name, position: before.position, colour: before.colour, active: before.active }, to: input } });
      return id;
    }
    const [row] = await trx('categories').insert(input).returning('id');
    await audit(trx, deps.clock, { ...who(by), action: 'catalog_changed', details: { categoryId: row.id, created: input } });
    return Number(row.id);
  });
}

export function saveTaxRate(deps: CatalogDeps, input: { name: string; rate: number }, by: Who, id?: number): Promise<number> {
  return change(deps, async (trx) => {
    await uniqueName(trx, 'tax_rates', input.name, id);
    if (id) {
      const before = await trx('tax_rates').where({ id }).forUpdate().first();
      if (!before) throw notFound('That tax rate');
      await trx('tax_rates').where({ id }).update({ name: input.name, rate_ppm: input.rate });
      // lines already on orders keep the rate they were taxed at; new lines take this one
      await audit(trx, deps.clock, { ...who(by), action: 'catalog_changed', details: { taxRateId: id, from: { name: before.name, ratePpm: before.rate_ppm }, to: { name: input.name, ratePpm: input.rate } } });
      return id;
    }
    const [row] = await trx('tax_rates').insert({ name: input.name, rate_ppm: input.rate }).returning('id');
    await audit(trx, deps.clock, { ...who(by), action: 'catalog_changed', details: { taxRateId: row.id, created: { name: input.name, ratePpm: input.rate } } });
    return Number(row.id);
  });
}

/**
 * A modifier group and its options. Options are matched by name: a kept option keeps its id (the
 * lines that chose it refer to it), a new one is added, one no longer listed is removed unless an
 * order line chose it, which refuses the change with the option's name.
 */
export function saveModifierGroup(deps: CatalogDeps, input: ModifierGroupInput, by: Who, id?: number): Promise<number> {
  return change(deps, async (trx) => {
    await uniqueName(trx, 'modifier_groups', input.name, id);
    const group = { name: input.name, min_select: input.min_select, max_select: input.max_select, required: input.min_select > 0 };
    let groupId = id;
    if (id) {
      if (!(await trx('modifier_groups').where({ id }).forUpdate().first('id'))) throw notFound('That modifier group');
      await trx('modifier_groups').where({ id }).update(group);
    } else {
      groupId = Number((await trx('modifier_groups').insert(group).returning('id'))[0].id);
    }
    const existing: Array<{ id: number; name: string }> = await trx('modifiers').where({ group_id: groupId }).select('id', 'name');
    const wanted = new Map(input.options.map((o, i) => [o.name.toLowerCase(), { ...o, position: i }]));
    for (const e of existing) {
      if (wanted.has(e.name.toLowerCase())) continue;
      if (await trx('order_line_modifiers').where({ modifier_id: e.id }).first('id')) {
        throw conflict(`${e.name} was chosen on orders already, so it cannot be removed: keep it in the list.`, 'modifier-in-use');
      }
      await trx('modifiers').where({ id: e.id }).delete();
    }
    for (const o of wanted.values()) {
      const e = existing.find((x) => x.name.toLowerCase() === o.name.toLowerCase());
      if (e) await trx('modifiers').where({ id: e.id }).update({ name: o.name, price_delta: o.priceDelta, position: o.position });
      else await trx('modifiers').insert({ group_id: groupId, name: o.name, price_delta: o.priceDelta, position: o.position });
    }
    await audit(trx, deps.clock, { ...who(by), action: 'catalog_changed', details: { modifierGroupId: groupId, [id ? 'changed' : 'created']: input } });
    return groupId!;
  });
}

/**
 * Every price of a category (or of the whole catalog) moved by a percent or an amount, in one
 * transaction, each product's change audited as price_changed. Open-price products are left
 * alone; a price would never go below zero (refused, naming the product). Returns how many changed.
 */
export function bulkPriceChange(deps: CatalogDeps, input: { categoryId: number | null; kind: 'percent' | 'amount'; value: string; currency: string }, by: Who): Promise<number> {
  const step = input.kind === 'percent' ? parseDecimal(input.value, 4) : parseDecimal(input.value, currencyExponent(input.currency) ?? 2);
  if (step === undefined || step === 0 || (input.kind === 'percent' && Math.abs(step) > 1_000_000) || Math.abs(step) > MAX_PRICE) {
    throw invalid(input.kind === 'percent' ? 'Give a percent like 10 or -5 (not 0).' : 'Give an amount like 0.20 or -0.10 (not 0).', [{ field: 'value', message: 'not a change' }]);
  }
  return change(deps, async (trx) => {
    const q = trx('products').where({ open_price: false }).orderBy('id').forUpdate().select('id', 'name', 'price');
    if (input.categoryId) q.where({ category_id: input.categoryId });
    const rows: Array<{ id: number; name: string; price: number }> = await q;
    let n = 0;
    for (const p of rows) {
      // a percent read with 4 decimals is its ppm: 10 → 100 000 = 10 %
      const to = input.kind === 'percent' ? add(p.price, applyRate(p.price, step)) : add(p.price, step);
      if (to < 0 || to > MAX_PRICE) throw invalid(`${p.name} would cost ${to < 0 ? 'less than nothing' : 'too much'}: nothing was changed.`, [{ field: 'value', message: 'out of range' }]);
      if (to === p.price) continue;
      await trx('products').where({ id: p.id }).update({ price: to });
      await audit(trx, deps.clock, { ...who(by), action: 'price_changed', details: { productId: p.id, product: p.name, from: p.price, to, bulk: { kind: input.kind, value: input.value, categoryId: input.categoryId } } });
      n++;
    }
    return n;
  });
}

export const listAllCategories = (db: DbOrTrx) => db('categories').orderBy(['position', 'id']).select('*');
export const listTaxRates = (db: DbOrTrx) => db('tax_rates').orderBy('id').select('*');
export const listStations = (db: DbOrTrx) => db('stations').orderBy(['position', 'id']).select('*');

/** Modifier groups with their options (as the form's "Name, price" lines) and how many products use each. */
export async function listModifierGroups(db: DbOrTrx) {
  const groups = await db('modifier_groups as g').orderBy('g.name')
    .select('g.*', db.raw('(select count(*)::int from product_modifier_groups pg where pg.group_id = g.id) as products'));
  const mods = await db('modifiers').orderBy(['group_id', 'position', 'id']).select('*');
  return groups.map((g: { id: number }) => ({ ...g, options: mods.filter((m: { group_id: number }) => Number(m.group_id) === Number(g.id)) }));
}
