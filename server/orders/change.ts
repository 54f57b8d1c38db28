import type { Clock } from '../clock';
import type { Publisher } from '../events';
import { inTransaction, type Db, type Trx } from '../db/knex';
import { conflict, notFound } from '../errors';
import { getSettings } from '../settings/service';
import type { BusinessSettings } from '../settings/schema';
import { lockOrder, orderLines, type LineRow, type OrderRow } from './queries';
import { recompute } from './totals';
import { discountShares, grownPastLimit } from './discount-limit';
import { getOrderView, type OrderView } from './views';

/** What order changes tell others, after commit: the event bus (server/events.ts). */
export type OrderEvents = Publisher;

export interface OrderDeps {
  db: Db;
  clock: Clock;
  events: OrderEvents;
}

/** Who did it, from where: filled in by the staff & security layer. */
export interface Actor {
  staffId?: number | null;
  staffName?: string | null;
  terminal?: string | null;
  terminalId?: number | null;
  /** the manager whose PIN authorised this action (override) */
  approvedBy?: number | null;
  approverName?: string | null;
}

/**
 * A permission a rule finds it needs only once it has read the order under its lock (a void of
 * items the kitchen has, a discount above the store's limit). The route answers it: it resolves
 * when the staff member may (or a manager's PIN came with the request, filling in the actor's
 * approver), and throws the refusal otherwise. No callback: every such permission is refused.
 */
export type Authorize = (permission: 'order:void-sent' | 'order:discount-large') => Promise<void>;

/** What a change sees: the order locked, its lines read after the lock, the business settings. */
export interface Locked {
  order: OrderRow;
  lines: LineRow[];
  settings: BusinessSettings;
}

export interface ChangeOptions {
  /** the change touches nothing the totals depend on (a kitchen send, a held course): only the version moves */
  totalsUnchanged?: boolean;
  /**
   * The order's version on the screen the change was asked from, for a control that sets a value
   * (a typed quantity, a price, a discount) rather than changing it by a delta: refused when
   * the order moved on since, so no terminal overwrites what it did not see.
   */
  drawnAt?: number;
  /**
   * Answers a permission the change turns out to need (./discount-limit.ts): with it, a discount
   * whose share grew past the store's limit asks for order:discount-large before anything is
   * saved. Without it (an internal caller that settled permissions itself) nothing is asked.
   */
  authorize?: Authorize;
}

/**
 * One change to an open order, the only way an order changes: one transaction that
 *
 * 1. locks the order row (SELECT … FOR UPDATE), so two terminals on one check serialise;
 * 2. reads its lines and the settings (after the lock: what every earlier change committed);
 * 3. applies the rule (`apply`), which writes what it changes, and any journal entry or outbox
 *    rows, with the same transaction;
 * 4. recomputes the totals from the lines as they now are and moves the version on;
 * 5. commits; only then are other terminals told.
 *
 * Given a transaction (`deps.db` is one), the change runs in it and the caller commits.
 */
export async function changeOrder<T>(deps: OrderDeps, orderId: number, apply: (trx: Trx, locked: Locked) => Promise<T>, opts: ChangeOptions = {}): Promise<T> {
  const { result, version } = await inTransaction(deps.db, async (trx) => {
    const locked = await lockOpenOrder(trx, orderId);
    if (opts.drawnAt !== undefined && opts.drawnAt !== locked.order.version) {
      throw conflict(`Order #${locked.order.number} was changed on another terminal since this screen was drawn: check it and try again.`, 'stale-order');
    }
    const result = await apply(trx, locked);
    const order = (await trx('orders').where({ id: orderId }).first()) as OrderRow;
    let version = order.version + 1;
    if (opts.totalsUnchanged) await trx('orders').where({ id: orderId }).update({ version, updated_at: deps.clock.now() });
    else {
      const lines = await orderLines(trx, orderId);
      if (opts.authorize) await checkDiscountLimit(locked, order, lines, opts.authorize);
      // any change to a split part's lines voids its split-time tax adjustment: its taxes are computed afresh
      version = await recompute(trx, deps.clock, order, locked.settings, lines, order.tax_adjustments !== null);
    }
    return { result, version };
  });
  deps.events.publish('order:changed', { orderId, version });
  return result;
}

/** The store's discount limit, on the order as the change leaves it (./discount-limit.ts). */
async function checkDiscountLimit(locked: Locked, after: OrderRow, lines: LineRow[], authorize: Authorize): Promise<void> {
  const { settings } = locked;
  const grown = grownPastLimit(discountShares(locked.order, locked.lines, settings), discountShares(after, lines, settings), settings.discountLimitPercent);
  if (grown.length) await authorize('order:discount-large');
}

/** The order locked, open, with its lines and the settings: the first step of every change. */
export async function lockOpenOrder(trx: Trx, orderId: number): Promise<Locked> {
  const order = await lockOrder(trx, orderId);
  if (!order) throw notFound('That order');
  assertOpen(order);
  return { order, lines: await orderLines(trx, orderId), settings: await getSettings(trx) };
}

export function assertOpen(order: OrderRow) {
  if (order.status !== 'open') {
    const what = { paid: 'paid', voided: 'voided', merged: 'merged into another check', split: 'split into other checks', open: 'open' }[order.status];
    throw conflict(`Order #${order.number} is already ${what}; it cannot change.`, 'order-closed');
  }
}

/** The line `lineId` of the locked order, or 404. */
export function lineOf(locked: Locked, lineId: number): LineRow {
  const line = locked.lines.find((l) => l.id === lineId);
  if (!line) throw notFound('That line');
  return line;
}

/**
 * `change`, and the order's screen as that change leaves it, in one transaction: the screen is
 * read by the change's own transaction before it commits (what it wrote and nothing later), so an
 * answer needs no second transaction. What the change publishes is held until the commit; inside
 * a caller's transaction the caller's publisher already does that.
 */
export async function withView<T, D extends OrderDeps>(deps: D, orderId: number, change: (d: D) => Promise<T>): Promise<{ result: T; view: OrderView }> {
  const held: Array<() => void> = [];
  const events: Publisher = deps.db.isTransaction ? deps.events : { publish: (name, payload) => void held.push(() => deps.events.publish(name, payload)) };
  const out = await inTransaction(deps.db, async (trx) => {
    const result = await change({ ...deps, db: trx, events } as D);
    return { result, view: await getOrderView(trx, orderId) };
  });
  for (const publish of held) publish();
  return out;
}
