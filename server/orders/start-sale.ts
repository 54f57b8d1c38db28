import { inTransaction } from '../db/knex';
import type { Publisher } from '../events';
import type { Actor, OrderDeps } from './change';
import { addLine } from './lines';
import { openOrderWithLines, type NewLine } from './open';
import { findOrder, type OrderRow } from './queries';
import { claimRequestKey, orderOfRequestKey } from './request-keys';

/** The first tap of a sale on an idle terminal: what it adds, and how the terminal asked. */
export interface SaleStart {
  type: OrderRow['type'];
  line: NewLine;
  /**
   * The idle screen's key, drawn with it: every tap made on one idle screen lands in one sale, so
   * a quick second tap, sent before the first one's answer came back, adds to the sale the first
   * one opened instead of opening another.
   */
  saleKey?: string;
  /** the tap's own key (./request-keys.ts): a retry after a lost link adds nothing */
  requestKey?: string;
}

/**
 * Starts a sale with its first line, in one transaction: an order exists only once it has a line
 * (issue 20), so an idle terminal opens none until a product is tapped. Returns the order's id.
 */
export async function startSale(deps: OrderDeps, sale: SaleStart, actor: Actor = {}): Promise<number> {
  // what the changes publish waits for the commit (inside a caller's transaction the caller's publisher does)
  const held: Array<() => void> = [];
  const events: Publisher = deps.db.isTransaction ? deps.events : { publish: (name, payload) => void held.push(() => deps.events.publish(name, payload)) };
  const orderId = await inTransaction(deps.db, async (trx) => {
    const d = { ...deps, db: trx, events };
    // a retried tap that was made already: its sale, as it is
    if (sale.requestKey) {
      const made = await orderOfRequestKey(trx, sale.requestKey);
      if (made !== null) return made;
    }
    const started = sale.saleKey ? await orderOfRequestKey(trx, sale.saleKey) : null;
    if (started !== null && (await findOrder(trx, started))?.status === 'open') {
      await addLine(d, started, sale.line, sale.requestKey);
      return started;
    }
    const id = await openOrderWithLines(d, { type: sale.type }, [sale.line], actor);
    if (sale.requestKey) await claimRequestKey(trx, deps.clock, sale.requestKey, id);
    // a sale key whose sale was closed meanwhile (a stale screen) keeps naming that one
    if (sale.saleKey && started === null) await claimRequestKey(trx, deps.clock, sale.saleKey, id);
    return id;
  });
  for (const publish of held) publish();
  return orderId;
}
