import type { DbOrTrx } from '../db/knex';
import { perDatabase } from '../db/per-database';
import { isTransaction } from '../db/direct';
import type { ProductWithGroups } from '../catalog/service';
import type { OrderBundle } from './queries';

/**
 * What adding a line needs besides the request, kept in memory so that the add is one statement
 * instead of a locking read and a write (two round trips, with the order's lines and the product
 * sent over as JSON each time; docs/PERFORMANCE.md):
 *
 * - **open orders as this server last wrote them** (the order row, lines, modifiers, payments,
 *   table name). Nothing tells the server when someone else changes an order; it does not need
 *   telling: every change to an order's lines, payments or totals bumps the order's version in
 *   the same transaction (the rule lockOrderWithLines relies on too), and the one statement
 *   writes only `where version = <the version kept>`. A kept order that is out of date makes the
 *   statement write nothing, and the add takes the locking path.
 * - **products with their tax rate and modifier groups**, as last read. These are trusted as
 *   they are, so they are kept only while the server hears every change to the catalog
 *   (migration 0011's notices, on the auth listener's connection, server/auth/cache.ts): each
 *   notice drops everything kept; so does a lost connection, and nothing is kept until it is back.
 *   The floor plan's tables notify too, because a kept order holds its table's name.
 *
 * A generation count keeps a read that began before a notice from storing what it read.
 */
const MAX_ORDERS = 1_000;
const MAX_PRODUCTS = 10_000;

class OrderMemory {
  readonly orders = new Map<number, OrderBundle>();
  readonly products = new Map<number, ProductWithGroups>();
  gen = 0;
  /** listeners whose LISTEN for catalog notices is in force */
  live = 0;

  clear(): void {
    this.gen++;
    this.orders.clear();
    this.products.clear();
  }
}

const memoryOf = perDatabase(() => new OrderMemory());

export interface MemoryKeeper {
  /** the kept order, or undefined (it may be out of date: the write checks its version) */
  order(id: number): OrderBundle | undefined;
  /** the kept product, or undefined */
  product(id: number): ProductWithGroups | undefined;
  /** keeps what a read or write that began with this keeper saw; ignored after a notice */
  keepOrder(bundle: OrderBundle): void;
  keepProduct(id: number, product: ProductWithGroups): void;
}

/**
 * The memory, as of now: undefined while no listener hears the catalog's notices, and inside a
 * caller's transaction (what it writes may yet roll back; the one-statement paths are for the
 * pool). Take it before the read whose results are to be kept.
 */
export function orderMemory(db: DbOrTrx): MemoryKeeper | undefined {
  const m = memoryOf(db);
  if (m.live === 0 || isTransaction(db)) return undefined;
  const gen = m.gen;
  const current = () => m.live > 0 && m.gen === gen;
  return {
    order: (id) => m.orders.get(id),
    product: (id) => m.products.get(id),
    keepOrder(bundle) {
      if (!current()) return;
      const id = bundle.order.id;
      // oldest out first: the map keeps insertion order, and a kept order moves to the end
      m.orders.delete(id);
      if (m.orders.size >= MAX_ORDERS) m.orders.delete(m.orders.keys().next().value!);
      m.orders.set(id, bundle);
    },
    keepProduct(id, product) {
      if (!current()) return;
      if (m.products.size >= MAX_PRODUCTS) m.products.clear();
      m.products.set(id, product);
    },
  };
}

/** Drops a kept order (it closed: nothing will add to it). */
export function forgetOrder(db: DbOrTrx, id: number): void {
  memoryOf(db).orders.delete(id);
}

/** Drops everything kept: a catalog or table change was committed, or notices may have been missed. */
export function forgetOrderMemory(db: DbOrTrx): void {
  memoryOf(db).clear();
}

/** A listener's LISTEN came into force (true) or ended (false). */
export function orderMemoryHeard(db: DbOrTrx, listening: boolean): void {
  const m = memoryOf(db);
  m.clear();
  m.live += listening ? 1 : -1;
}

/** How many orders and products are kept (for tests and the bench's notes). */
export function orderMemorySize(db: DbOrTrx): { orders: number; products: number; live: boolean } {
  const m = memoryOf(db);
  return { orders: m.orders.size, products: m.products.size, live: m.live > 0 };
}
