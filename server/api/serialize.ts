import type { OrderView, PaymentRow } from '../orders/service';

/** The API's JSON shapes (camelCase, money in integer minor units). */
export function orderJson(v: OrderView) {
  const o = v.order;
  return {
    id: o.id,
    number: o.number,
    businessDate: o.business_date,
    type: o.type,
    status: o.status,
    parked: o.parked,
    customerName: o.customer_name,
    tableId: o.table_id,
    currency: v.settings.currency,
    pricesIncludeTax: v.settings.pricesIncludeTax,
    lines: v.lines.map((l) => ({
      id: l.id,
      productId: l.product_id,
      name: l.name,
      quantity: l.quantity,
      unitPrice: l.unit_price,
      modifiers: l.modifiers.map((m) => ({ id: m.modifier_id, group: m.group_name, name: m.name, priceDelta: m.price_delta })),
      note: l.note,
      gross: l.gross,
      discount: l.discount,
      refundedQuantity: l.refunded,
    })),
    subtotal: v.totals.subtotal,
    discountTotal: v.totals.discountTotal,
    taxes: v.taxes.map((t) => ({ name: t.name, ratePpm: t.ppm, base: t.base, tax: t.tax })),
    taxTotal: v.totals.taxTotal,
    total: v.totals.total,
    paidTotal: o.paid_total,
    due: v.due,
    receiptNo: o.receipt_no,
    journalSeq: o.journal_seq,
    voidReason: o.void_reason,
    createdAt: o.created_at.toISOString(),
    closedAt: o.closed_at ? o.closed_at.toISOString() : null,
  };
}


export function paymentJson(p: PaymentRow, order: { status: string; receipt_no: number | null }) {
  return {
    id: p.id,
    orderId: p.order_id,
    method: p.method,
    status: p.status,
    // a card payment: what identifies it at Stripe, and why it failed (issue 22)
    card: p.method === 'card' ? { brand: p.card_brand, last4: p.card_last4, paymentIntent: p.stripe_payment_intent_id, failureMessage: (p as PaymentRow & { failure_message?: string | null }).failure_message ?? null } : null,
    amount: p.amount,
    tendered: p.tendered,
    change: p.change,
    tip: p.tip,
    orderStatus: order.status,
    receiptNo: order.receipt_no,
    createdAt: p.created_at.toISOString(),
  };
}

export function productJson(p: { id: number; name: string; category_id: number; price: number; tax_rate_id: number; sku: string | null; station_id: number | null; active: boolean; available: boolean; open_price: boolean }, barcodes: string[]) {
  return {
    id: p.id,
    name: p.name,
    categoryId: p.category_id,
    price: p.price,
    taxRateId: p.tax_rate_id,
    sku: p.sku,
    barcodes,
    stationId: p.station_id,
    active: p.active,
    available: p.available,
    openPrice: p.open_price,
  };
}
