import type { Clock } from '../clock';
import { inTransaction, type Db, type DbOrTrx, type Trx } from '../db/knex';
import { conflict, invalid, notFound } from '../errors';
import { isOpen, openOrder, type Actor, type OrderDeps } from '../orders/service';

export type TableState = 'free' | 'ordering' | 'sent' | 'ready' | 'paying';

export interface FloorTable {
  id: number;
  name: string;
  seats: number;
  x: number;
  y: number;
  area_id: number;
  area_name: string;
  state: TableState;
  orderId: number | null;
  orderNumber: number | null;
  covers: number | null;
  seatedMinutes: number | null;
  total: number | null;
}

/**
 * The live floor: each table's state from its open check. free: no check; ordering: nothing sent
 * yet; sent: the kitchen has open tickets; ready: everything sent is bumped; paying: part paid.
 */
export async function floor(db: DbOrTrx, clock: Clock): Promise<FloorTable[]> {
  const { rows }: { rows: FloorRow[] } = await db.raw(
    `select t.id, t.name, t.seats, t.x, t.y, t.area_id, a.name as area_name, o.id as order_id, o.number, o.covers, o.seated_at,
            o.created_at, o.total, o.paid_total, o.first_sent_at,
            (select count(*) from kitchen_tickets k where k.order_id = o.id and k.status = 'open')::int as open_tickets
     from tables t
     join areas a on a.id = t.area_id
     left join orders o on o.table_id = t.id and ${isOpen('o')}
     where t.active
     order by a.position, a.id, t.id`,
  );
  const now = clock.now().getTime();
  return rows.map((r) => {
    const orderId = r.order_id;
    let state: TableState = 'free';
    if (orderId) {
      if ((r.paid_total ?? 0) > 0) state = 'paying';
      else if (!r.first_sent_at) state = 'ordering';
      else state = r.open_tickets > 0 ? 'sent' : 'ready';
    }
    const seated = r.seated_at ?? r.created_at;
    return {
      id: r.id, name: r.name, seats: r.seats, x: r.x, y: r.y, area_id: r.area_id, area_name: r.area_name, state,
      orderId, orderNumber: r.number, covers: r.covers, total: r.total,
      seatedMinutes: orderId && seated ? Math.max(0, Math.floor((now - seated.getTime()) / 60_000)) : null,
    };
  });
}

/** A row of floor()'s statement: a table, its area and its open check's columns (null when free). */
interface FloorRow extends Pick<FloorTable, 'id' | 'name' | 'seats' | 'x' | 'y' | 'area_id' | 'area_name' | 'covers' | 'total'> {
  order_id: number | null;
  number: number | null;
  seated_at: Date | null;
  created_at: Date | null;
  paid_total: number | null;
  first_sent_at: Date | null;
  open_tickets: number;
}

/**
 * Seats a table: its open check if it has one (another terminal may have opened it), else a new
 * one with its covers. One seating of a table at a time (a lock for the transaction), so two
 * terminals seating it together get the same check.
 */
export async function openTable(deps: OrderDeps, tableId: number, covers: number | null, actor: Actor): Promise<number> {
  const seat = async (trx: Trx) => {
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`table:${tableId}`]);
    const table = await trx('tables').where({ id: tableId, active: true }).first('name');
    if (!table) throw notFound('That table');
    // read after the lock: what a seating that held it before committed
    const open = await trx('orders').where({ table_id: tableId }).whereRaw(isOpen()).orderBy('id').first('id');
    if (open) return open.id as number;
    const order = await openOrder({ ...deps, db: trx }, { type: 'dine_in', tableId, covers, seatedAt: deps.clock.now() }, actor);
    return order.id;
  };
  return inTransaction(deps.db, seat);
}

// ---- the floor-plan editor (back office) ----

export async function saveArea(db: Db, input: { id?: number; name: string }) {
  const name = input.name.trim();
  if (!name || name.length > 60) throw invalid('An area needs a name.');
  if (input.id) {
    const n = await db('areas').where({ id: input.id }).update({ name });
    if (!n) throw notFound('That area');
    return input.id;
  }
  const [{ max }] = await db('areas').max('position as max');
  const [row] = await db('areas').insert({ name, position: (max ?? -1) + 1 }).returning('id').catch(dupe('area'));
  return row.id as number;
}

export async function saveTable(db: Db, input: { id?: number; areaId: number; name: string; seats: number; x: number; y: number }) {
  if (!(await db('areas').where({ id: input.areaId }).first('id'))) throw notFound('That area');
  const row = { area_id: input.areaId, name: input.name.trim(), seats: input.seats, x: input.x, y: input.y };
  if (input.id) {
    const n = await db('tables').where({ id: input.id }).update(row).catch(dupe('table'));
    if (!n) throw notFound('That table');
    return input.id;
  }
  const [made] = await db('tables').insert(row).returning('id').catch(dupe('table'));
  return made.id as number;
}

/** Takes a table off the plan (kept for history); refused while it has an open check. */
export async function removeTable(db: Db, id: number) {
  if (await db('orders').where({ table_id: id }).whereRaw(isOpen()).first('id')) throw conflict('That table has an open check.', 'table-busy');
  const n = await db('tables').where({ id }).update({ active: false, name: db.raw("name || ' (removed ' || id || ')'") });
  if (!n) throw notFound('That table');
}

function dupe(what: string) {
  return (err: { code?: string }) => {
    if (err.code === '23505') throw conflict(`There is already a ${what} with that name.`, 'duplicate-name');
    throw err;
  };
}
