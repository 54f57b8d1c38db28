import type http from 'node:http';
import { Server } from 'socket.io';
import { isAppError } from '../errors';
import type { EventBus } from '../events';

/** Every event the server sends, declared once. Names are `feature:verb`. */
export interface ServerToClientEvents {
  'order:updated': (p: { orderId: number; version: number }) => void;
  'order:ready': (p: { orderId: number; number: number; tableId: number | null }) => void;
  'product:availability': (p: { productId: number; available: boolean }) => void;
  /** to every terminal: the catalog changed in the back office; grids read it again (static/js/terminal.js) */
  'catalog:changed': () => void;
  /** to every terminal: a counted product ran low or out (static/js/terminal.js) */
  'stock:alert': (p: { productId: number; name: string; stock: number; level: 'low' | 'out' }) => void;
  'ticket:created': (p: { ticketId: number; stationId: number; orderId: number }) => void;
  'ticket:changed': (p: { ticketId: number; stationId: number; orderId: number; status: 'open' | 'bumped' }) => void;
  'floor:changed': () => void;
  /** to every terminal: a printer failed a job, or prints again (static/js/printer-alerts.js) */
  'printer:alert': (p: { printerId: number; name: string; level: 'error' | 'ok'; message: string; waiting: number }) => void;
  /** to one terminal's room: a scan from its scanner opened this order; show it (static/js/wedge.js) */
  'scan:opened': (p: { orderId: number }) => void;
  /** to one terminal's room: a scan from its scanner added nothing (unknown code, bad check digit…) */
  'scan:refused': (p: { code: string; message: string }) => void;
}

export interface ClientToServerEvents {
  // a watch is refused (ack false, nothing joined) without a staff login on the terminal; see createRealtime
  'order:watch': (p: { orderId: number }, ack?: (ok: boolean) => void) => void;
  'order:unwatch': (p: { orderId: number }) => void;
  'kitchen:watch': (p: { station: number | 'expo' }, ack?: (ok: boolean) => void) => void;
  'floor:watch': (ack?: (ok: boolean) => void) => void;
}

export type Io = Server<ClientToServerEvents, ServerToClientEvents>;

export const orderRoom = (orderId: number) => `order:${orderId}`;
export const terminalRoom = (terminalId: number) => `terminal:${terminalId}`;
export const stationRoom = (station: number | 'expo') => `station:${station}`;
export const FLOOR_ROOM = 'floor';

/**
 * What a socket's page shows, as the socket said: the order it watches (null: none; a page
 * that watches nothing, or has not yet), since `at` (process.hrtime, so views of a terminal's
 * sockets can be ordered). A scan from the terminal's scanner goes to the order of its latest
 * view (server/devices/scan-to-order.ts).
 */
export interface SocketView {
  orderId: number | null;
  at: bigint;
}

/** The latest view among a terminal's sockets; undefined when none is connected. */
export async function terminalView(io: Io, terminalId: number): Promise<SocketView | undefined> {
  let latest: SocketView | undefined;
  for (const s of await io.in(terminalRoom(terminalId)).fetchSockets()) {
    const v = s.data.view as SocketView | undefined;
    if (v && (!latest || v.at > latest.at)) latest = v;
  }
  return latest;
}

/**
 * socket.io's subscriptions to the event bus: which rooms hear what after a commit. A nudge, at
 * most once: a screen re-reads the database on it and on every (re)connect. `io` is read at each
 * event: the server is made after the app, and events before it reach nobody.
 */
export function relayToSockets(events: Pick<EventBus, 'subscribe'>, io: () => Io | undefined): void {
  const stations = (stationId: number) => [stationRoom(stationId), stationRoom('expo')];
  events.subscribe('order:changed', ({ orderId, version }) => {
    io()?.to(orderRoom(orderId)).emit('order:updated', { orderId, version });
    io()?.to(FLOOR_ROOM).emit('floor:changed');
  });
  events.subscribe('order:ready', ({ orderId, terminalId, number, tableId }) => {
    io()?.to([orderRoom(orderId), FLOOR_ROOM, ...(terminalId ? [terminalRoom(terminalId)] : [])]).emit('order:ready', { orderId, number, tableId });
  });
  events.subscribe('ticket:created', (t) => void io()?.to(stations(t.stationId)).emit('ticket:created', t));
  events.subscribe('ticket:changed', (t) => void io()?.to(stations(t.stationId)).emit('ticket:changed', t));
  events.subscribe('floor:changed', () => void io()?.to(FLOOR_ROOM).emit('floor:changed'));
  events.subscribe('product:availability', (p) => void io()?.emit('product:availability', p));
  events.subscribe('catalog:changed', () => void io()?.emit('catalog:changed'));
  events.subscribe('stock:alert', (p) => void io()?.emit('stock:alert', p));
  events.subscribe('printer:alert', (p) => void io()?.emit('printer:alert', p));
}

/**
 * Who a socket is: the terminal its device cookie names, and whether a person is signed in on
 * it through the session its session cookie names. Undefined (refused) when unpaired or revoked;
 * an AppError thrown is refused with its message.
 */
export type SocketAuthorizer = (req: http.IncomingMessage) => Promise<SocketIdentity | undefined>;
export interface SocketIdentity {
  terminalId: number;
  /** the terminal's kind: a kitchen screen is a device, watched by nobody signed in */
  kind: string;
  /** whether the handshake's staff session is still open, asked of the database at each join */
  staffSignedIn(): Promise<boolean>;
}

export function createRealtime(server: http.Server, authorize: SocketAuthorizer): Io {
  const io: Io = new Server(server, {
    serveClient: true, // the client comes from the socket.io package itself: /socket.io/socket.io.min.js
    // no connectionStateRecovery: every page re-reads what it shows on each (re)connect, and
    // recovery kept a copy of every broadcast for its whole window (2 minutes of a rush: ~50 MB
    // of heap in the bench's heap snapshots, found as "RSS grows run by run")
  });
  io.use((socket, next) => {
    authorize(socket.request).then(
      (who) => {
        if (!who) return next(new Error('unpaired: pair this browser first'));
        socket.data.who = who;
        next();
      },
      (err) => next(new Error(isAppError(err) ? err.message : 'authentication failed')),
    );
  });
  io.on('connection', (socket) => {
    const who = socket.data.who as SocketIdentity;
    // A paired terminal with nobody signed in gets only its own room (issue 18): orders, the floor
    // and stations need a staff session open at the moment of the join, except a kitchen screen,
    // a device, which may watch stations alone. A refused join is acked false, never thrown.
    const joinIf = (room: string, needsStaff: boolean, ack: unknown) => {
      const reply = (ok: boolean) => { if (typeof ack === 'function') ack(ok); };
      (needsStaff ? who.staffSignedIn() : Promise.resolve(true)).then(
        (ok) => {
          if (ok && socket.connected) void socket.join(room);
          reply(ok);
        },
        () => reply(false),
      );
    };
    const view = (orderId: number | null) => { socket.data.view = { orderId, at: process.hrtime.bigint() } satisfies SocketView; };
    view(null);
    void socket.join(terminalRoom(who.terminalId));
    socket.on('order:watch', (p, ack) => {
      const id = Number(p?.orderId);
      if (Number.isSafeInteger(id) && id > 0) {
        joinIf(orderRoom(id), true, (ok: boolean) => {
          if (ok && socket.connected) view(id);
          if (typeof ack === 'function') ack(ok);
        });
      } else if (typeof ack === 'function') ack(false);
    });
    socket.on('kitchen:watch', (p, ack) => {
      const st = p?.station === 'expo' ? 'expo' : Number(p?.station);
      const ok = st === 'expo' || (Number.isSafeInteger(st) && st > 0);
      if (ok) joinIf(stationRoom(st), who.kind !== 'kitchen', ack);
      else if (typeof ack === 'function') ack(false);
    });
    socket.on('floor:watch', (ack) => joinIf(FLOOR_ROOM, true, ack));
    socket.on('order:unwatch', (p) => {
      const id = Number(p?.orderId);
      if (Number.isSafeInteger(id) && id > 0) void socket.leave(orderRoom(id));
      if ((socket.data.view as SocketView).orderId === id) view(null);
    });
  });
  return io;
}
