import crypto from 'node:crypto';
import type { Clock } from '../clock';
import type { Db, Trx } from '../db/knex';
import { hashPin, pinLookup } from '../auth/pin';
import { getOrCreateSecret } from '../settings/service';
import { demoCatalog, demoStaff, demoStations, demoTables, demoTaxRates } from './data';

export interface DemoInfo {
  seeded: boolean;
  staff: Array<{ name: string; role: string; pin: string }>;
}

/**
 * Seeds the demo café-restaurant into an empty store only (no products yet). Runs in one
 * transaction under an advisory lock, so two starts at once or a restart never duplicate it.
 */
export async function seedDemo(db: Db, clock: Clock): Promise<DemoInfo> {
  const staff = demoStaff.map(({ name, role, pin }) => ({ name, role, pin }));
  const seeded = await db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', ['seed-demo']);
    const [{ count }] = await trx('products').count<{ count: string }[]>('* as count');
    if (Number(count) > 0) return false;
    await insertDemo(trx, clock);
    return true;
  });
  return { seeded, staff };
}

async function insertDemo(trx: Trx, clock: Clock): Promise<void> {
  const stationIds = new Map<string, number>();
  for (const [i, name] of demoStations.entries()) {
    const [row] = await trx('stations').insert({ name, position: i }).returning('id');
    stationIds.set(name, row.id);
  }
  const taxIds = new Map<string, number>();
  for (const t of demoTaxRates) {
    const [row] = await trx('tax_rates').insert({ name: t.name, rate_ppm: t.ratePpm }).returning('id');
    taxIds.set(t.key, row.id);
  }
  const groupIds = new Map<string, number>();
  for (const g of demoCatalog.modifierGroups) {
    const [row] = await trx('modifier_groups')
      .insert({ name: g.name, min_select: g.min, max_select: g.max, required: g.min > 0 })
      .returning('id');
    groupIds.set(g.key, row.id);
    await trx('modifiers').insert(g.options.map(([name, delta], i) => ({ group_id: row.id, name, price_delta: delta, position: i })));
  }
  for (const [ci, c] of demoCatalog.categories.entries()) {
    const [cat] = await trx('categories').insert({ name: c.name, colour: c.colour, position: ci }).returning('id');
    for (const [pi, p] of c.products.entries()) {
      const [prod] = await trx('products')
        .insert({
          name: p.name,
          category_id: cat.id,
          price: p.price,
          tax_rate_id: taxIds.get(p.tax ?? c.tax)!,
          sku: p.sku ?? null,
          station_id: p.station === null ? null : stationIds.get(p.station ?? c.station ?? '') ?? null,
          open_price: p.openPrice ?? false,
          position: pi,
        })
        .returning('id');
      if (p.barcodes?.length) await trx('product_barcodes').insert(p.barcodes.map((barcode) => ({ barcode, product_id: prod.id })));
      const groups = p.groups ?? c.groups ?? [];
      if (groups.length) {
        await trx('product_modifier_groups').insert(groups.map((g, i) => ({ product_id: prod.id, group_id: groupIds.get(g)!, position: i })));
      }
    }
  }
  for (const [ai, a] of demoTables.entries()) {
    const [area] = await trx('areas').insert({ name: a.area, position: ai }).returning('id');
    await trx('tables').insert(a.tables.map((t) => ({ area_id: area.id, name: t.name, seats: t.seats, x: t.x, y: t.y })));
  }
  const lookupKey = await getOrCreateSecret(trx, clock, 'pin-lookup', () => crypto.randomBytes(32).toString('hex'));
  for (const s of demoStaff) {
    await trx('staff').insert({
      name: s.name,
      role: s.role,
      pin_hash: await hashPin(s.pin),
      pin_lookup: pinLookup(s.pin, lookupKey),
      created_at: clock.now(),
    });
  }
}
