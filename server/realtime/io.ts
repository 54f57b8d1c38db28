import type http from 'node:http';
import { Server } from 'socket.io';

/** Every event the server sends, declared once. Names are `feature:verb`. */
export interface ServerToClientEvents {
  'order:updated': (p: { orderId: number; version: number }) => void;
  'product:availability': (p: { productId: number; available: boolean }) => void;
}

export interface ClientToServerEvents {
  'order:watch': (p: { orderId: number }) => void;
  'order:unwatch': (p: { orderId: number }) => void;
}

export type Io = Server<ClientToServerEvents, ServerToClientEvents>;

export const orderRoom = (orderId: number) => `order:${orderId}`;

export function createRealtime(server: http.Server): Io {
  const io: Io = new Server(server, {
    serveClient: true, // the client comes from the socket.io package itself: /socket.io/socket.io.min.js
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000 },
  });
  io.on('connection', (socket) => {
    socket.on('order:watch', (p) => {
      const id = Number(p?.orderId);
      if (Number.isSafeInteger(id) && id > 0) void socket.join(orderRoom(id));
    });
    socket.on('order:unwatch', (p) => {
      const id = Number(p?.orderId);
      if (Number.isSafeInteger(id) && id > 0) void socket.leave(orderRoom(id));
    });
  });
  return io;
}
