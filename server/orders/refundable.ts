import type { Minor } from '../money';
import type { LineRow } from './queries';

/** What refunds took from a line so far (refund_lines summed). */
export interface Refunded {
  quantity: number;
  net: Minor;
  tax: Minor;
}

/**
 * What is still refundable of a paid line: its net and tax less what refunds took, and the money
 * that is (net, plus tax when prices exclude it). Written once for the refund (refund.ts) and for
 * the screen that offers it (views.ts).
 */
export function remainingOf(line: Pick<LineRow, 'net' | 'tax'>, done: Refunded | undefined, pricesIncludeTax: boolean): { net: Minor; tax: Minor; gross: Minor } {
  const net = Math.max(0, (line.net ?? 0) - (done?.net ?? 0));
  const tax = Math.max(0, (line.tax ?? 0) - (done?.tax ?? 0));
  return { net, tax, gross: pricesIncludeTax ? net : net + tax };
}
