import type { Logger } from './logger';

/**
 * What the server tells itself after a commit, declared once. Names are `feature:verb`, like the
 * socket.io events (realtime/io.ts) they mostly become; `order:changed` is told to sockets as
 * `order:updated` to the order's room and `floor:changed` to the floor.
 */
export interface EventMap {
  /** an order's rows changed and its version moved on */
  'order:changed': { orderId: number; version: number };
  /** the last open kitchen ticket of an order was bumped: its food is ready */
  'order:ready': { orderId: number; terminalId: number | null; number: number; tableId: number | null };
  'ticket:created': { ticketId: number; stationId: number; orderId: number };
  'ticket:changed': { ticketId: number; stationId: number; orderId: number; status: 'open' | 'bumped' };
  /** something the floor plan shows (tables' checks, their state) changed */
  'floor:changed': Record<string, never>;
  'product:availability': { productId: number; available: boolean };
  /** the back office changed what terminals' grids show (products, categories, prices, stock): they read it again (server/catalog/) */
  'catalog:changed': Record<string, never>;
  /** a sale or an adjustment left a counted product's stock at or below its low mark (server/inventory/) */
  'stock:alert': { productId: number; name: string; stock: number; level: 'low' | 'out' };
  /** outbox rows of `topic` were committed: its worker may deliver them now (server/outbox/) */
  'outbox:written': { topic: string };
  /** a printer failed a job (level 'error', with why and how many jobs wait) or prints again ('ok'): every terminal shows it (server/printing/) */
  'printer:alert': { printerId: number; name: string; level: 'error' | 'ok'; message: string; waiting: number };
}

export type EventName = keyof EventMap;
export type EventHandler<K extends EventName> = (payload: EventMap[K]) => void | Promise<void>;

/**
 * The side services see: they publish AFTER the transaction that made the change committed
 * (never inside it: a rolled-back change must tell nobody). A service running inside a caller's
 * transaction is given a publisher that holds what it publishes until that caller commits (the
 * API's `idempotently` does this).
 */
export interface Publisher {
  publish<K extends EventName>(name: K, payload: EventMap[K]): void;
}

export interface EventBus extends Publisher {
  /** Adds a handler; handlers of an event run in the order they subscribed. Returns the unsubscribe. */
  subscribe<K extends EventName>(name: K, handler: EventHandler<K>): () => void;
}

/**
 * The typed after-commit event bus. One per running server, made in the composition root
 * (main.ts, or a test's boot) and passed to whoever publishes or subscribes; never a module-level
 * singleton, so two apps in one process (tests) never hear each other.
 *
 * `publish` calls every handler of the event at once, in subscription order, and returns when
 * they have been called: handlers must be quick (a socket.io emit, a worker's wake); slow work
 * belongs in an outbox worker that a handler only wakes. A handler that throws, or whose promise
 * rejects, is logged and skipped: it never fails the publisher, whose change is already
 * committed, nor keeps the other handlers from running.
 */
export function createEventBus(log: Logger): EventBus {
  const handlers = new Map<EventName, Array<EventHandler<EventName>>>();
  const failed = (name: EventName, err: unknown) => log.error({ err, event: name }, 'an event handler failed; the others ran');
  return {
    subscribe(name, handler) {
      const list = handlers.get(name) ?? [];
      list.push(handler as EventHandler<EventName>);
      handlers.set(name, list);
      return () => {
        const now = handlers.get(name) ?? [];
        handlers.set(name, now.filter((h) => h !== handler));
      };
    },
    publish(name, payload) {
      // a copy: a handler that subscribes or unsubscribes changes the next publish, not this one
      for (const handler of [...(handlers.get(name) ?? [])]) {
        try {
          const done = handler(payload);
          if (done instanceof Promise) done.catch((err) => failed(name, err));
        } catch (err) {
          failed(name, err);
        }
      }
    },
  };
}
