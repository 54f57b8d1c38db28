import type { Clock } from '../clock';
import type { Db, DbOrTrx, Trx } from '../db/knex';
import { conflict, invalid, notFound } from '../errors';
import { changeOrder, lineModifiers, withView, type LineRow, type Locked, type OrderRow, type OrderView } from '../orders/service';
import type { Publisher } from '../events';
import { emitEvent, WEBHOOK_TOPIC } from '../webhooks/service';
import { queueKitchenChits } from '../printing/service';

export type Marker = 'NEW' | 'ADDITION' | 'VOID' | 'NOTE';

export interface KitchenDeps {
  db: Db;
  clock: Clock;
  /** told after commit: tickets, orders ready, the floor (server/events.ts) */
  events: Publisher;
}

export type SendOpts = {
  fireCourse?: number;
  /** every held course goes too: the order is closing, so nothing could fire it later (a pay) */
  fireHeld?: boolean;
  serverName?: string | null;
};

/**
 * Fire: tells each station only what changed since the last send, keyed by line id. One change
 * of the order (changeOrder: its row locked, its lines read after the lock), which records what
 * the kitchen now has on each line, so two terminals pressing Send at once, or Send pressed
 * again, never make a line twice. Held courses stay back; `fireCourse` releases one and sends it.
 */
export async function sendOrder(deps: KitchenDeps, orderId: number, opts: SendOpts = {}): Promise<{ tickets: Array<{ ticketId: number; stationId: number }> }> {
  const tickets = await changeOrder(deps, orderId, (trx, locked) => sendIn(trx, deps.clock, locked, opts), { totalsUnchanged: true });
  announceTickets(deps.events, orderId, tickets);
  deps.events.publish('floor:changed', {});
  return { tickets };
}

/** After the commit of a send: each station's screens hear of their ticket (socket.io, realtime/io.ts). */
export function announceTickets(events: Publisher, orderId: number, tickets: Array<{ ticketId: number; stationId: number }>): void {
  for (const t of tickets) events.publish('ticket:created', { ...t, orderId });
}

/** sendOrder, answering the order's screen as the send leaves it (read in its transaction). */
export async function sendOrderAndView(deps: KitchenDeps, orderId: number, opts: SendOpts = {}): Promise<{ tickets: Array<{ ticketId: number; stationId: number }>; view: OrderView }> {
  const { result, view } = await withView(deps, orderId, (d) => sendOrder(d, orderId, opts));
  return { tickets: result.tickets, view };
}

/**
 * The send itself, inside the caller's transaction with the order locked and its lines read after
 * the lock: sendOrder's change, and a pay that sends (orders/tender.ts). Writes the tickets and
 * what each line's kitchen now has; tells nobody: the caller announces the tickets after commit.
 * Lines already sent unchanged, and lines of no station, send nothing: then no ticket is made.
 */
export async function sendIn(trx: Trx, clock: Clock, { order, lines }: Locked, opts: SendOpts): Promise<Array<{ ticketId: number; stationId: number }>> {
  const orderId = order.id;
  let held = opts.fireHeld ? [] : order.held_courses ?? [];
  if (opts.fireCourse !== undefined) {
    if (!held.includes(opts.fireCourse)) throw conflict(`Course ${opts.fireCourse} is not on hold.`, 'course-not-held');
    held = held.filter((c) => c !== opts.fireCourse);
  }
  const productIds = [...new Set(lines.map((l) => l.product_id).filter((id): id is number => id !== null))];
  const stationOf = new Map<number, number | null>(
    productIds.length ? (await trx('products').whereIn('id', productIds).select('id', 'station_id')).map((p: { id: number; station_id: number | null }) => [p.id, p.station_id]) : [],
  );
  const mods = await lineModifiers(trx, lines.map((l) => l.id));
  const sentCourses = new Set(lines.filter((l) => l.sent_quantity > 0).map((l) => l.course));
  const byStation = new Map<number, Array<Record<string, unknown>>>();
  const sent: LineRow[] = [];
  for (const l of lines) {
    const station = l.product_id === null ? null : stationOf.get(l.product_id) ?? null;
    if (!station || held.includes(l.course)) continue;
    const items: Array<{ marker: Marker; quantity: number }> = [];
    const delta = l.quantity - l.sent_quantity;
    if (delta > 0) items.push({ marker: order.first_sent_at && sentCourses.has(l.course) ? 'ADDITION' : 'NEW', quantity: delta });
    if (delta < 0) items.push({ marker: 'VOID', quantity: -delta });
    if (l.sent_quantity > 0 && l.quantity > 0 && (l.note ?? null) !== (l.sent_note ?? null)) items.push({ marker: 'NOTE', quantity: l.quantity });
    if (!items.length) continue;
    sent.push(l);
    const list = byStation.get(station) ?? [];
    for (const it of items) {
      list.push({
        line_id: l.id, marker: it.marker, quantity: it.quantity, name: l.name, seat: l.seat, course: l.course,
        note: l.note, modifiers: JSON.stringify(mods.filter((m) => m.line_id === l.id).map((m) => m.name)),
      });
    }
    byStation.set(station, list);
  }
  const now = clock.now();
  const tickets: Array<{ ticketId: number; stationId: number }> = [];
  if (byStation.size) {
    const sendNo: number = (await trx.raw(
      'insert into order_sends (order_id, sends) values (?, 1) on conflict (order_id) do update set sends = order_sends.sends + 1 returning sends', [orderId],
    )).rows[0].sends;
    const tableName = order.table_id === null ? null : ((await trx('tables').where({ id: order.table_id }).first('name'))?.name ?? null);
    for (const [stationId, items] of byStation) {
      const [ticket] = await trx('kitchen_tickets')
        .insert({ order_id: orderId, station_id: stationId, send_no: sendNo, table_name: tableName, server_name: opts.serverName ?? null, order_number: order.number, created_at: now })
        .returning('id');
      await trx('kitchen_ticket_items').insert(items.map((i) => ({ ...i, ticket_id: ticket.id })));
      tickets.push({ ticketId: ticket.id, stationId });
    }
    for (const l of sent) await trx('order_lines').where({ id: l.id }).update({ sent_quantity: l.quantity, sent_note: l.note });
  }
  await trx('orders').where({ id: orderId }).update({ held_courses: held, ...(byStation.size && !order.first_sent_at ? { first_sent_at: now } : {}) });
  return queueKitchenChits(trx, clock, tickets); // each station's chit on its printer, if it has one (server/printing/)
}

/** Keeps a course back from the next sends until it is fired. */
export async function holdCourse(deps: KitchenDeps, orderId: number, course: number) {
  if (!Number.isInteger(course) || course < 1 || course > 9) throw invalid('A course is 1 to 9.');
  await changeOrder(deps, orderId, async (trx, { order }) => {
    const held = [...new Set([...(order.held_courses ?? []), course])].sort();
    await trx('orders').where({ id: orderId }).update({ held_courses: held });
  }, { totalsUnchanged: true });
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
    deps.events.publish('ticket:changed', { ticketId: t.id, stationId: t.station_id, orderId: t.order_id, status: t.status });
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
  deps.events.publish('ticket:changed', { ticketId: r.ticket.id, stationId: r.ticket.station_id, orderId: r.ticket.order_id, status: 'open' });
  deps.events.publish('floor:changed', {});
}

function announce(deps: KitchenDeps, r: { ticket: { id: number; station_id: number; order_id: number }; ready: boolean; order: OrderRow }, status: 'bumped') {
  deps.events.publish('outbox:written', { topic: WEBHOOK_TOPIC });
  deps.events.publish('ticket:changed', { ticketId: r.ticket.id, stationId: r.ticket.station_id, orderId: r.ticket.order_id, status });
  if (r.ready) deps.events.publish('order:ready', { orderId: r.order.id, terminalId: r.order.terminal_id, number: r.order.number, tableId: r.order.table_id });
  deps.events.publish('floor:changed', {});
}

/** 86: a product runs out (or comes back). Every terminal greys it out at once. */
export async function setAvailability(db: Db, productId: number, available: boolean) {
  const n = await db('products').where({ id: productId }).update({ available });
  if (!n) throw notFound('That product');
}
