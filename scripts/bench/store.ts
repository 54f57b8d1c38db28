import type { SocketPool } from './wire';
import { createPairingCode, type TerminalKind } from '../../server/auth/service';
import { productModifierGroups } from '../../server/catalog/queries';
import { systemClock } from '../../server/clock';
import type { Db } from '../../server/db/knex';
import { Browser } from './http';

/** The demo staff PINs (server/demo/data.ts). */
export const PINS = { owner: '1111', manager: '2222', cashier: '3333', server: '4444' } as const;

/** One line of a sale: a product and a valid choice of its modifiers. */
export interface LineRecipe {
  productId: number;
  name: string;
  modifierIds: number[];
  stationId: number | null;
}

/**
 * Lines a counter sale can be made of: every sellable product with modifier groups, each with a
 * valid choice (a required group gets its minimum, the first optional group one option), read
 * from the database so the ids and the min/max rules are the store's own.
 */
export async function lineRecipes(db: Db): Promise<LineRecipe[]> {
  const products: Array<{ id: number; name: string; station_id: number | null }> = await db('products as p')
    .where({ 'p.active': true, 'p.available': true, 'p.open_price': false })
    .whereExists((q) => q.select(1).from('product_modifier_groups as g').whereRaw('g.product_id = p.id'))
    .orderBy('p.id')
    .select('p.id', 'p.name', 'p.station_id');
  const out: LineRecipe[] = [];
  for (const [i, p] of products.entries()) {
    const groups = await productModifierGroups(db, p.id);
    const modifierIds: number[] = [];
    let optionalTaken = false;
    for (const g of groups) {
      if (!g.modifiers.length) continue;
      let want = g.min;
      if (want === 0 && !optionalTaken && g.max >= 1) {
        want = 1;
        optionalTaken = true;
      }
      for (let k = 0; k < Math.min(want, g.modifiers.length); k++) modifierIds.push(g.modifiers[(i + k) % g.modifiers.length].id);
    }
    if (modifierIds.length) out.push({ productId: p.id, name: p.name, modifierIds, stationId: p.station_id });
  }
  if (out.length < 4) throw new Error(`the store has only ${out.length} products with modifiers; the bench needs 4 (was the demo seeded?)`);
  return out;
}

/** Terminals stay logged in between bench phases: the idle lock is raised to its maximum (a business setting). */
export async function raiseIdleLock(db: Db): Promise<void> {
  await db('settings')
    .insert({ key: 'idleLockSeconds', value: JSON.stringify(86_400), updated_at: new Date() })
    .onConflict('key')
    .merge(['value', 'updated_at']);
}

/**
 * `n` browsers paired as new terminals through the real flow (GET /pair, POST /pair with a
 * one-time code) and, when `pin` is given, logged in (POST /login), each with its own session.
 */
export async function pairTerminals(
  db: Db,
  baseUrl: string,
  agent: SocketPool,
  n: number,
  opts: { kind: TerminalKind; pin?: string; prefix: string; parallel?: number },
): Promise<Browser[]> {
  const out: Browser[] = new Array(n);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const name = `${opts.prefix} ${i + 1}`;
      const b = new Browser(baseUrl, agent, name);
      const { code } = await createPairingCode({ db, clock: systemClock }, { name, kind: opts.kind }, { staffId: null, terminalId: null });
      await b.get('/pair', { htmx: false, keepBody: true });
      const paired = await b.post('/pair', { code }, { keepBody: true });
      if (paired.status !== 204) throw new Error(`pairing ${name}: ${paired.status} ${paired.text.slice(0, 300)}`);
      if (opts.pin) {
        await b.get('/login', { htmx: false, keepBody: true });
        const r = await b.post('/login', { pin: opts.pin }, { keepBody: true });
        if (r.status !== 204) throw new Error(`login on ${name}: ${r.status} ${r.text.slice(0, 300)}`);
      }
      out[i] = b;
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, opts.parallel ?? 8) }, worker));
  return out;
}

/**
 * `n` tables for waiters to seat, one each: an area of the bench's own ("Bench floor") holding
 * tables "Bench 1" … "Bench n", made once and reused. Returns their ids in order.
 */
export async function benchTables(db: Db, n: number): Promise<number[]> {
  const area = (await db('areas').where({ name: 'Bench floor' }).first('id')) ?? (await db('areas').insert({ name: 'Bench floor', position: 99 }).returning('id'))[0];
  const names = Array.from({ length: n }, (_, i) => `Bench ${i + 1}`);
  const have: Array<{ id: number; name: string }> = await db('tables').whereIn('name', names).select('id', 'name');
  const missing = names.filter((name) => !have.some((t) => t.name === name));
  if (missing.length) {
    const made: Array<{ id: number; name: string }> = await db('tables')
      .insert(missing.map((name) => {
        const i = names.indexOf(name);
        return { area_id: area.id, name, seats: 4, x: 40 + (i % 20) * 90, y: 40 + Math.floor(i / 20) * 90 };
      }))
      .returning(['id', 'name']);
    have.push(...made);
  }
  await db('tables').whereIn('name', names).update({ active: true });
  return names.map((name) => Number(have.find((t) => t.name === name)!.id));
}
