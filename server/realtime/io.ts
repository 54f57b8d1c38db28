import type http from 'node:http';
import { Server } from 'socket.io';

/** Every event the server sends, declared once. Names are `feature:verb`. */
export interface ServerToClientEvents {
  'order:updated': (p: { orderId: number; version: number }) => void;
  'order:ready': (p: { orderId: number; number: number; tableId: number | null }) => void;
  'product:availability': (p: { productId: number; available: boolean }) => void;
  'ticket:created': (p: { ticketId: number; stationId: number; orderId: number }) => void;
  'ticket:changed': (p: { ticketId: number; stationId: number; orderId: number; status: 'open' | 'bumped' }) => void;
  'floor:changed': () => void;
}

export interface ClientToServerEvents {
  'order:watch': (p: { orderId: number }) => void;
  'order:unwatch': (p: { orderId: number }) => void;
  'kitchen:watch': (p: { station: number | 'expo' }, ack?: (ok: boolean) => void) => void;
  'floor:watch': () => void;
}

export type Io = Server<ClientToServerEvents, ServerToClientEvents>;

export const orderRoom = (orderId: number) => `order:${orderId}`;
export const terminalRoom = (terminalId: number) => `terminal:${terminalId}`;
export const stationRoom = (station: number | 'expo') => `station:${station}`;
export const FLOOR_ROOM = 'floor';

/** Who a socket is: the terminal its device cookie names. Refused when unpaired or revoked. */
export type SocketAuthorizer = (req: http.IncomingMessage) => Promise<{ terminalId: number } | undefined>;

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
        socket.data.terminalId = who.terminalId;
        next();
      },
      () => next(new Error('authentication failed')),
    );
  });
  io.on('connection', (socket) => {
    void socket.join(terminalRoom(socket.data.terminalId as number));
    socket.on('order:watch', (p) => {
      const id = Number(p?.orderId);
      if (Number.isSafeInteger(id) && id > 0) void socket.join(orderRoom(id));
    });
    socket.on('kitchen:watch', (p, ack) => {
      const st = p?.station === 'expo' ? 'expo' : Number(p?.station);
      const ok = st === 'expo' || (Number.isSafeInteger(st) && st > 0);
      if (ok) void socket.join(stationRoom(st));
      if (typeof ack === 'function') ack(ok);
    });
    socket.on('floor:watch', () => void socket.join(FLOOR_ROOM));
    socket.on('order:unwatch', (p) => {
      const id = Number(p?.orderId);
      if (Number.isSafeInteger(id) && id > 0) void socket.leave(orderRoom(id));
    });
  });
  return io;
}
