import type { Clock } from '../clock';
import type { Db, DbOrTrx, Trx } from '../db/knex';
import { conflict, invalid, notFound } from '../errors';
import {
  datedFromJson, lineModifiers, LINES_JSON, linesFromJson, lockOrder, MODS_JSON, orderLines, PAYMENTS_JSON, SNAPSHOT_VERSION, TABLE_NAME,
  type LineRow, type ModifierRow, type OrderBundle, type OrderReadColumns, type OrderRow, type PaymentRow,
  assertOpen, screenOf, type OrderView,
} from '../orders/service';
import { emitEvent } from '../webhooks/service';
import { updateByIdWrite, updateWhereWrite, writeAll, type Write } from '../db/write-all';
import { forgetOrder, orderMemory, type MemoryKeeper } from '../orders/memory';
import { query, transaction } from '../db/direct';
import { merged } from '../merge';

export type Marker = 'NEW' | 'ADDITION' | 'VOID' | 'NOTE';

export interface KitchenEvents {
  ticketCreated(t: { ticketId: number; stationId: number; orderId: number }): void;
  ticketChanged(t: { ticketId: number; stationId: number; orderId: number; status: 'open' | 'bumped' }): void;
  orderReady(o: { orderId: number; terminalId: number | null; number: number; tableId: number | null }): void;
  orderChanged(orderId: number, version: number): void;
  floorChanged(): void;
  outboxWritten?(): void;
}

export interface KitchenDeps {
  db: Db;
  clock: Clock;
  events: KitchenEvents;
}

/** A line as a send sees it: the line and its product's station (none for a line without a product). */
type SendLine = LineRow & { station_id: number | null };

/**
 * Fire: tells each station only what changed since the last send, keyed by line id. Runs in one
 * transaction holding the order's row lock, and records what the kitchen now has on each line,
 * so two terminals pressing Send at once, or Send pressed again, never make a line twice.
 * Held courses stay back; `fireCourse` releases one and sends it.
 */
export async function sendOrder(deps: KitchenDeps, orderId: number, opts: { fireCourse?: number; serverName?: string | null } = {}) {
  const { tickets } = await sendOrderWithBundle(deps, orderId, opts);
  return { tickets };
}

/** sendOrder, answering the order's screen after it too, from what its transaction read and wrote. */
export async function sendOrderAndView(deps: KitchenDeps, orderId: number, opts: { fireCourse?: number; serverName?: string | null } = {}): Promise<{ tickets: Array<{ ticketId: number; stationId: number }>; view: OrderView }> {
  const { tickets, after } = await sendOrderWithBundle(deps, orderId, opts);
  // the lock waited for another change and read the lines again: read the screen after commit
  return { tickets, view: await screenOf(deps.db, orderId, after) };
}

type SendOpts = { fireCourse?: number; serverName?: string | null };

async function sendOrderWithBundle(deps: KitchenDeps, orderId: number, opts: SendOpts) {
  const memory = orderMemory(deps.db);
  const sent = (memory && (await sendFromMemory(deps, memory, orderId, opts))) || (await sendLocked(deps, orderId, opts));
  if (sent.after) memory?.keepOrder(sent.after);
  else forgetOrder(deps.db, orderId);
  for (const t of sent.tickets) deps.events.ticketCreated({ ...t, orderId });
  deps.events.orderChanged(orderId, sent.version);
  deps.events.floorChanged();
  return sent;
}

interface Sent {
  tickets: Array<{ ticketId: number; stationId: number }>;
  version: number;
  /** the order's screen after the send, when what it was planned from was all of it */
  after?: OrderBundle;
}

/** The send in one transaction that locks the order and reads its lines first: 2 round trips. */
async function sendLocked(deps: KitchenDeps, orderId: number, opts: SendOpts): Promise<Sent> {
  return transaction(deps.db, async (trx) => {
    const locked = await lockOrderForSend(trx, orderId);
    if (!locked) throw notFound('That order');
    const { order, lines, mods, tableName } = locked;
    assertOpen(order);
    const plan = planSend(deps.clock, order, lines, mods, tableName, locked.forView?.payments, opts);
    const orderUpdate = updateByIdWrite('orders', orderId, plan.orderChange);
    if (!plan.writes.length) {
      await writeAll(trx, [orderUpdate], undefined, { commitAfter: true });
      return { tickets: [], version: plan.version, after: plan.after };
    }
    // the send number, one ticket per station with its items, what the kitchen now has on each
    // line, and the order: one statement, the transaction's last (COMMIT rides with it)
    const rows = await writeAll<{ id: number; station_id: number }>(trx, [...plan.writes, orderUpdate], 'new_tickets', { commitAfter: true });
    return { tickets: ticketsOf(plan, rows), version: plan.version, after: plan.after };
  });
}

/**
 * The send in one statement, from the order this server keeps and its products' stations
 * (orders/memory.ts): every write hangs on the order's update, which matches only while the
 * order is open at the kept version. Undefined when something is not kept, the order moved on
 * (nothing was written), or the send fails a check: the locking path then answers.
 */
async function sendFromMemory(deps: KitchenDeps, memory: MemoryKeeper, orderId: number, opts: SendOpts): Promise<Sent | undefined> {
  const known = memory.order(orderId);
  if (!known || known.order.status !== 'open') return undefined;
  const lines: SendLine[] = [];
  for (const l of known.lines) {
    const product = l.product_id === null ? undefined : memory.product(l.product_id);
    if (l.product_id !== null && !product) return undefined;
    lines.push(merged(l, { station_id: product?.product.station_id ?? null }));
  }
  let plan: SendPlan;
  try {
    plan = planSend(deps.clock, known.order, lines, known.modifiers, known.tableName, known.payments, opts, 'guard');
  } catch {
    return undefined;
  }
  const guard = updateWhereWrite('orders', plan.orderChange, { id: orderId, version: known.order.version, status: 'open' });
  const [row] = await writeAll<{ matched: number; tickets: Array<{ id: number; station_id: number }> }>(deps.db, [
    { sql: `${guard.sql} returning "id"`, bindings: guard.bindings, name: 'guard' },
    ...plan.writes,
  ], undefined, {
    final: `select (select count(*)::int from guard) as matched, ${plan.writes.length ? `coalesce((select json_agg(t) from new_tickets t), '[]')` : `'[]'::json`} as tickets`,
  });
  if (row.matched !== 1) return undefined;
  return { tickets: ticketsOf(plan, row.tickets), version: plan.version, after: plan.after };
}

interface SendPlan {
  version: number;
  orderChange: Record<string, unknown>;
  stations: number[];
  /** the send number, the tickets and their items, what the kitchen now has on each line (none: nothing to send) */
  writes: Write[];
  after?: OrderBundle;
}

const ticketsOf = (plan: SendPlan, rows: Array<{ id: number; station_id: number }>) =>
  plan.stations.map((stationId) => ({ ticketId: rows.find((t) => t.station_id === stationId)!.id, stationId }));

/**
 * What a send of `order` writes, from its lines as locked or kept. `gate`: the name of a part
 * of the same statement that returns the order's row if it may go ahead; every write then hangs
 * on it. `payments` undefined: the screen after it is not known from this.
 */
function planSend(clock: Clock, order: OrderRow, lines: SendLine[], mods: ModifierRow[], tableName: string | null, payments: PaymentRow[] | undefined, opts: SendOpts, gate?: string): SendPlan {
  const orderId = order.id;
  let held = order.held_courses ?? [];
  if (opts.fireCourse !== undefined) {
    if (!held.includes(opts.fireCourse)) throw conflict(`Course ${opts.fireCourse} is not on hold.`, 'course-not-held');
    held = held.filter((c) => c !== opts.fireCourse);
  }
  const sentCourses = new Set(lines.filter((l) => l.sent_quantity > 0).map((l) => l.course));
  const byStation = new Map<number, Array<Record<string, unknown>>>();
  const updates: SendLine[] = [];
  for (const l of lines) {
    if (!l.station_id || held.includes(l.course)) continue;
    const items: Array<{ marker: Marker; quantity: number }> = [];
    const delta = l.quantity - l.sent_quantity;
    if (delta > 0) items.push({ marker: order.first_sent_at && sentCourses.has(l.course) ? 'ADDITION' : 'NEW', quantity: delta });
    if (delta < 0) items.push({ marker: 'VOID', quantity: -delta });
    if (l.sent_quantity > 0 && l.quantity > 0 && (l.note ?? null) !== (l.sent_note ?? null)) items.push({ marker: 'NOTE', quantity: l.quantity });
    if (!items.length) continue;
    updates.push(l);
    const list = byStation.get(l.station_id) ?? [];
    for (const it of items) {
      list.push({
        line_id: l.id, marker: it.marker, quantity: it.quantity, name: l.name, seat: l.seat, course: l.course,
        note: l.note, modifiers: mods.filter((m) => m.line_id === l.id).map((m) => m.name),
      });
    }
    byStation.set(l.station_id, list);
  }
  const now = clock.now();
  const version = order.version + 1;
  const orderChange = { held_courses: held, version, updated_at: now, ...(byStation.size && !order.first_sent_at ? { first_sent_at: now } : {}) };
  // what the screen shows after the send
  const sent = new Set(updates);
  const after: OrderBundle | undefined = payments && {
    order: { ...order, ...orderChange },
    tableName,
    lines: lines.map((sl) => {
      const { station_id: _station, ...l } = sl;
      return sent.has(sl) ? { ...l, sent_quantity: l.quantity, sent_note: l.note } : l;
    }),
    modifiers: mods,
    payments,
    refunds: [],
    refundedByLine: new Map(),
  };
  const stations = [...byStation.keys()];
  if (!stations.length) return { version, orderChange, stations, writes: [], after };
  const items = stations.flatMap((stationId) => byStation.get(stationId)!.map((i) => merged(i, { station_id: stationId }))).map((i, n) => merged(i, { n }));
  const writes: Write[] = [
    {
      name: 'send_no',
      sql: `insert into order_sends (order_id, sends) select ?::bigint, 1${gate ? ` from ${gate}` : ''}
            on conflict (order_id) do update set sends = order_sends.sends + 1 returning sends`,
      bindings: [orderId],
    },
    {
      name: 'new_tickets',
      sql: `insert into kitchen_tickets (order_id, station_id, send_no, table_name, server_name, order_number, created_at)
            select ?, st.station_id, send_no.sends, ?, ?, ?, ? from send_no, json_to_recordset(?::json) as st(station_id bigint, n int) order by st.n
            returning id, station_id`,
      bindings: [orderId, tableName, opts.serverName ?? null, order.number, now, JSON.stringify(stations.map((station_id, n) => ({ station_id, n })))],
    },
    {
      sql: `insert into kitchen_ticket_items (ticket_id, line_id, marker, quantity, name, seat, course, note, modifiers)
            select new_tickets.id, it.line_id, it.marker, it.quantity, it.name, it.seat, it.course, it.note, it.modifiers
            from json_to_recordset(?::json) as it(station_id bigint, line_id bigint, marker text, quantity int, name text, seat int, course int, note text, modifiers jsonb, n int)
            join new_tickets on new_tickets.station_id = it.station_id order by it.n`,
      bindings: [JSON.stringify(items)],
    },
    {
      // order_id narrows it to the order's lines through its index: the plan a prepared statement
      // keeps cannot become a scan of every line ever sold (the bench saw 4 million rows read)
      sql: `update order_lines set sent_quantity = v.q, sent_note = v.note from (values ${updates.map(() => '(?::bigint, ?::int, ?::text)').join(', ')}) as v(id, q, note)
            where order_lines.order_id = ? and order_lines.id = v.id${gate ? ` and exists (select 1 from ${gate})` : ''}`,
      bindings: [...updates.flatMap((l) => [l.id, l.quantity, l.note]), orderId],
    },
  ];
  return { version, orderChange, stations, writes, after };
}

/**
 * The order locked for a send, with its lines (and their stations), their modifiers, its table's
 * name and payments, in one round trip; read again under the lock when the statement waited for
 * it (see lockOrderWithLines). `forView`: the statement saw everything the order's screen shows.
 */
async function lockOrderForSend(trx: Trx, orderId: number): Promise<{
  order: OrderRow; tableName: string | null; lines: SendLine[]; mods: ModifierRow[]; forView?: { payments: PaymentRow[] };
} | undefined> {
  const res = await query<OrderRow & OrderReadColumns & { x_stations: Record<string, number | null> | null }>(
    trx,
    `select o.*, ${TABLE_NAME} as x_table_name,
       ${LINES_JSON} as x_lines,
       (select json_object_agg(sl.id, sp.station_id) from order_lines sl join products sp on sp.id = sl.product_id where sl.order_id = o.id) as x_stations,
       ${MODS_JSON} as x_mods,
       case when o.paid_total > 0 then ${PAYMENTS_JSON} end as x_payments,
       ${SNAPSHOT_VERSION}
     from orders o where o.id = ? for update of o`,
    [orderId],
  );
  const row = res.rows[0];
  if (!row) return undefined;
  const { x_table_name, x_lines, x_stations, x_mods, x_payments, x_snapshot_version, ...order } = row;
  const withStations = (lines: LineRow[], stations: Record<string, number | null>): SendLine[] => lines.map((l) => merged(l, { station_id: stations[l.id] ?? null }));
  if (x_snapshot_version === order.version) {
    return {
      order, tableName: x_table_name, lines: withStations(linesFromJson(x_lines), x_stations ?? {}),
      mods: x_mods, forView: { payments: datedFromJson(x_payments) },
    };
  }
  const lines = await orderLines(trx, orderId);
  const stations = await trx('order_lines as l').join('products as p', 'p.id', 'l.product_id').where('l.order_id', orderId).select('l.id', 'p.station_id');
  return {
    order, tableName: x_table_name,
    lines: withStations(lines, Object.fromEntries(stations.map((s: { id: number; station_id: number | null }) => [s.id, s.station_id]))),
    mods: await lineModifiers(trx, lines.map((l) => l.id)),
  };
}

/** Keeps a course back from the next sends until it is fired. */
export async function holdCourse(deps: KitchenDeps, orderId: number, course: number) {
  if (!Number.isInteger(course) || course < 1 || course > 9) throw invalid('A course is 1 to 9.');
  const version = await deps.db.transaction(async (trx) => {
    const order = await lockOrder(trx, orderId);
    if (!order) throw notFound('That order');
    assertOpen(order);
    const held = [...new Set([...(order.held_courses ?? []), course])].sort();
    await trx('orders').where({ id: orderId }).update({ held_courses: held, version: order.version + 1, updated_at: deps.clock.now() });
    return order.version + 1;
  });
  forgetOrder(deps.db, orderId); // a kept copy is out of date (orders/memory.ts)
  deps.events.orderChanged(orderId, version);
}

export interface TicketView {
  id: number;
  order_id: number;
  station_id: number;
  station_name: string;
  status: 'open' | 'bumped';
  order_number: number;
  table_name: string | null;
  server_name: string | null;
  send_no: number;
  created_at: Date;
  bumped_at: Date | null;
  ageSeconds: number;
  items: Array<{ id: number; marker: Marker; quantity: number; name: string; modifiers: string[]; note: string | null; seat: number | null; course: number; bumped_at: Date | null }>;
}

/** The open tickets of a station (or of every station: expo), oldest first, with their items. */
export async function openTickets(db: DbOrTrx, clock: Clock, station: number | 'expo'): Promise<TicketView[]> {
  const q = db('kitchen_tickets as t').join('stations as s', 's.id', 't.station_id').where('t.status', 'open').orderBy('t.id').select('t.*', 's.name as station_name');
  if (station !== 'expo') q.where('t.station_id', station);
  return withItems(db, clock, await q);
}

export async function ticketById(db: DbOrTrx, clock: Clock, id: number): Promise<TicketView> {
  const rows = await db('kitchen_tickets as t').join('stations as s', 's.id', 't.station_id').where('t.id', id).select('t.*', 's.name as station_name');
  if (!rows.length) throw notFound('That ticket');
  return (await withItems(db, clock, rows))[0];
}

async function withItems(db: DbOrTrx, clock: Clock, tickets: Array<Omit<TicketView, 'items' | 'ageSeconds'>>): Promise<TicketView[]> {
  const items = tickets.length ? await db('kitchen_ticket_items').whereIn('ticket_id', tickets.map((t) => t.id)).orderBy('id') : [];
  const now = clock.now().getTime();
  return tickets.map((t) => ({
    ...t,
    ageSeconds: Math.max(0, Math.floor((now - t.created_at.getTime()) / 1000)),
    items: items.filter((i: { ticket_id: number }) => i.ticket_id === t.id),
  }));
}

/** All-day counts: what is still to make on the open tickets, per item. */
export async function allDay(db: DbOrTrx, station: number | 'expo'): Promise<Array<{ name: string; quantity: number }>> {
  const q = db('kitchen_ticket_items as i')
    .join('kitchen_tickets as t', 't.id', 'i.ticket_id')
    .where('t.status', 'open')
    .whereNull('i.bumped_at')
    .groupBy('i.name')
    .select('i.name')
    .select(db.raw(`sum(case when i.marker = 'VOID' then -i.quantity when i.marker = 'NOTE' then 0 else i.quantity end)::int as quantity`))
    .orderBy('i.name');
  if (station !== 'expo') q.where('t.station_id', station);
  return (await q).filter((r: { quantity: number }) => r.quantity > 0);
}

async function afterBump(trx: Trx, deps: KitchenDeps, ticketId: number) {
  const ticket = await trx('kitchen_tickets').where({ id: ticketId }).first();
  if (ticket.status === 'bumped') {
    await emitEvent(trx, deps.clock, 'ticket.ready', {
      ticketId, orderId: ticket.order_id, orderNumber: ticket.order_number, stationId: ticket.station_id, table: ticket.table_name, readyAt: deps.clock.now().toISOString(),
    });
  }
  const open = await trx('kitchen_tickets').where({ order_id: ticket.order_id, status: 'open' }).first('id');
  const order: OrderRow = await trx('orders').where({ id: ticket.order_id }).first();
  return { ticket, ready: !open, order };
}

/** Bump (ready): a ticket leaves the screen; when an order has no open ticket left, its server is told. */
export async function bumpTicket(deps: KitchenDeps, ticketId: number) {
  const r = await deps.db.transaction(async (trx) => {
    const t = await trx('kitchen_tickets').where({ id: ticketId }).forUpdate().first();
    if (!t) throw notFound('That ticket');
    if (t.status === 'bumped') return undefined;
    const now = deps.clock.now();
    await trx('kitchen_tickets').where({ id: ticketId }).update({ status: 'bumped', bumped_at: now });
    await trx('kitchen_ticket_items').where({ ticket_id: ticketId }).whereNull('bumped_at').update({ bumped_at: now });
    return afterBump(trx, deps, ticketId);
  });
  if (r) announce(deps, r, 'bumped');
}

/** Bumps one item; the ticket goes when its last item does. */
export async function bumpItem(deps: KitchenDeps, itemId: number) {
  const r = await deps.db.transaction(async (trx) => {
    const item = await trx('kitchen_ticket_items').where({ id: itemId }).forUpdate().first();
    if (!item) throw notFound('That item');
    const now = deps.clock.now();
    await trx('kitchen_ticket_items').where({ id: itemId }).update({ bumped_at: item.bumped_at ?? now });
    const left = await trx('kitchen_ticket_items').where({ ticket_id: item.ticket_id }).whereNull('bumped_at').first('id');
    if (left) return { ticketOnly: item.ticket_id as number };
    const t = await trx('kitchen_tickets').where({ id: item.ticket_id }).forUpdate().first();
    if (t.status === 'bumped') return { ticketOnly: item.ticket_id as number };
    await trx('kitchen_tickets').where({ id: item.ticket_id }).update({ status: 'bumped', bumped_at: now });
    return afterBump(trx, deps, item.ticket_id);
  });
  if ('ticketOnly' in r) {
    const t = await deps.db('kitchen_tickets').where({ id: r.ticketOnly }).first();
    deps.events.ticketChanged({ ticketId: t.id, stationId: t.station_id, orderId: t.order_id, status: t.status });
  } else announce(deps, r, 'bumped');
}

/** Recall: brings back the station's most recently bumped ticket. */
export async function recallLast(deps: KitchenDeps, station: number | 'expo') {
  const r = await deps.db.transaction(async (trx) => {
    const q = trx('kitchen_tickets').where({ status: 'bumped' }).orderBy('bumped_at', 'desc').orderBy('id', 'desc').forUpdate();
    if (station !== 'expo') q.where({ station_id: station });
    const t = await q.first();
    if (!t) throw notFound('A bumped ticket to recall');
    await trx('kitchen_tickets').where({ id: t.id }).update({ status: 'open', bumped_at: null });
    await trx('kitchen_ticket_items').where({ ticket_id: t.id }).update({ bumped_at: null });
    return afterBump(trx, deps, t.id);
  });
  deps.events.ticketChanged({ ticketId: r.ticket.id, stationId: r.ticket.station_id, orderId: r.ticket.order_id, status: 'open' });
  deps.events.floorChanged();
}

function announce(deps: KitchenDeps, r: { ticket: { id: number; station_id: number; order_id: number }; ready: boolean; order: OrderRow }, status: 'bumped') {
  deps.events.outboxWritten?.();
  deps.events.ticketChanged({ ticketId: r.ticket.id, stationId: r.ticket.station_id, orderId: r.ticket.order_id, status });
  if (r.ready) deps.events.orderReady({ orderId: r.order.id, terminalId: r.order.terminal_id, number: r.order.number, tableId: r.order.table_id });
  deps.events.floorChanged();
}

/** 86: a product runs out (or comes back). Every terminal greys it out at once. */
export async function setAvailability(db: Db, productId: number, available: boolean) {
  const n = await db('products').where({ id: productId }).update({ available });
  if (!n) throw notFound('That product');
}
