import type { BusinessSettings } from '../settings/schema';
import type { LineRow, OrderRow } from './queries';
import { totalsFor } from './totals';

/**
 * The store's discount limit (settings.discountLimitPercent) holds for the order as it is after
 * a change, not for the request that made it (issue 18): a 10 % amount discount on ten buns
 * becomes 100 % when the quantity goes to one. So every change that can move an amount compares
 * each discount's share before and after, under the order's lock, and a share that grew past the
 * limit needs order:discount-large from whoever made the change.
 *
 * A share is a percentage of what the discount applies to: a line discount of its line's gross,
 * the order discount of the order after line discounts. A percent discount's share is its rate
 * (rounding of tiny amounts must not make 10 % look like 20 %); an amount discount's share is what
 * it takes off. Comps are not discounts here: order:comp approves them.
 */
export function discountShares(order: OrderRow, lines: LineRow[], settings: BusinessSettings): Map<string, number> {
  const shares = new Map<string, number>();
  const totals = totalsFor(order, lines, settings);
  const share = (off: number, of: number) => (of > 0 ? (off * 100) / of : off > 0 ? 100 : 0);
  for (const l of lines) {
    if (l.comp_reason || !l.discount_kind || l.quantity === 0) continue;
    const t = totals.lines.find((x) => x.key === String(l.id))!;
    shares.set(`line:${l.id}`, l.discount_kind === 'percent' ? l.discount_value! / 10_000 : share(t.lineDiscount, t.gross));
  }
  if (order.discount_kind) {
    const afterLines = totals.lines.reduce((s, t) => s + t.gross - t.lineDiscount, 0);
    const off = totals.lines.reduce((s, t) => s + t.orderDiscount, 0);
    shares.set('order', order.discount_kind === 'percent' ? order.discount_value! / 10_000 : share(off, afterLines));
  }
  return shares;
}

/** The discounts whose share grew past the limit between `before` and `after` (keys of discountShares). */
export function grownPastLimit(before: Map<string, number>, after: Map<string, number>, limitPercent: number): string[] {
  const EPSILON = 1e-9;
  return [...after].filter(([key, s]) => s > limitPercent + EPSILON && s > (before.get(key) ?? 0) + EPSILON).map(([key]) => key);
}
