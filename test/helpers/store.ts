import type { Db } from '../../server/db/knex';
import { seedDemo } from '../../server/demo/seed';
import { FakeClock } from './clock';

/** Demo catalog rows tests refer to by name. */
export async function seedStore(db: Db) {
  await seedDemo(db, new FakeClock());
  const product = async (name: string) => {
    const p = await db('products').where({ name }).first();
    if (!p) throw new Error(`no demo product ${name}`);
    return p as { id: number; name: string; price: number };
  };
  const modifier = async (group: string, name: string) => {
    const m = await db('modifiers as m').join('modifier_groups as g', 'g.id', 'm.group_id').where({ 'g.name': group, 'm.name': name }).first('m.id', 'm.price_delta');
    if (!m) throw new Error(`no modifier ${group}/${name}`);
    return m as { id: number; price_delta: number };
  };
  return { product, modifier };
}

export async function counts(db: Db, ...tables: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) {
    const [{ n }] = await db(t).count<{ n: string }[]>('* as n');
    out[t] = Number(n);
  }
  return out;
}
