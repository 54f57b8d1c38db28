import type { OrderDeps } from './change';
import { addLine } from './lines';
import type { NewLine } from './open';
import type { OrderView } from './views';
import { withView } from './change';

/**
 * The order feature's services, by capability: change.ts (the one way an order changes),
 * open.ts, lines.ts, tender.ts (closeSale), refund.ts (refunds and voids), views.ts (the
 * screen), totals.ts and record.ts (the rules they share). Other features and the routes
 * import them from here.
 */
export { assertOpen, changeOrder, withView, lineOf, lockOpenOrder, type Actor, type ChangeOptions, type Authorize, type Locked, type OrderDeps, type OrderEvents } from './change';
export { addLineIn, openOrder, openOrderWithLines, reserveOrderNumber, type NewLine, type OpenInput, type ReservedNumber } from './open';
export { addLine, compLine, type EditOptions, compsFor, overridePrice, removeLine, setCustomerName, setLineDiscount, setNote, setOrderDiscount, setParked, setQuantity } from './lines';
export { closeSale, tenderCash, tenderCashAndView, type Sale, type TenderResult } from './tender';
export { planRefund, recordRefund, refundOrder, voidOrder, type RefundPlan, type RefundRequest, type RefundTender } from './refund';
export { assertNoCardPending, beginCardPayment, settleCardPayment, type CardOutcome, type CardPaymentRow, type CardTenderInput } from './card-payments';
export { makeRoomForRestoredRecords, replayEntries, type ReplayEntry, type ReplayResult } from './replay';
export { getOrderView, type OrderView } from './views';
export { claimRequestKey, orderOfRequestKey, pruneRequestKeys } from './request-keys';
export { recompute, toDiscount, toMinor, totalsFor } from './totals';
export { isOpen, lineModifiers, lockOrder, nextOrderNumber, openOrders, orderLines, type LineRow, type ModifierRow, type OrderRow, type PaymentRow } from './queries';

/** addLine, answering the order's screen as the change leaves it (read in its transaction); `lineId` null for a retried tap. */
export async function addLineAndView(deps: OrderDeps, orderId: number, input: NewLine, requestKey?: string): Promise<{ lineId: number | null; view: OrderView }> {
  const { result: lineId, view } = await withView(deps, orderId, (d) => addLine(d, orderId, input, requestKey));
  return { lineId, view };
}
