import { inTransaction } from '../db/knex';
import { audit } from '../audit/service';
import { businessDate } from '../business-date';
import { conflict, invalid, notFound, unprocessable } from '../errors';
import { appendEntry } from '../journal/service';
import { divRound, type Minor } from '../money';
import { getSettings } from '../settings/service';
import { emitEvent, WEBHOOK_TOPIC } from '../webhooks/service';
import { assertOpen, type Actor, type OrderDeps } from './change';
import { lineModifiers, lockOrder, orderLines, refundedByLine, type LineRow } from './queries';
import { approverRecord, orderRecord, staffRecord } from './record';

/**
 * Voids an unpaid order with a reason: a journal entry with its full record and a receipt number.
 * `idempotencyKey`: the void dialog's key, stored with the void; the same key again answers the
 * void that was made (replayed) instead of refusing a voided order.
 */
export async function voidOrder(deps: OrderDeps, orderId: number, reason: string, actor: Actor = {}, idempotencyKey?: string): Promise<{ version: number; replayed: boolean }> {
  const done = await inTransaction(deps.db, async (trx) => {
    const order = await lockOrder(trx, orderId);
    if (!order) throw notFound('That order');
    if (idempotencyKey !== undefined && order.status === 'voided' && order.void_idempotency_key === idempotencyKey) return { version: order.version, replayed: true };
    if (order.status === 'paid') throw conflict(`Order #${order.number} is paid: refund it instead.`, 'order-closed');
    assertOpen(order);
    if (order.paid_total > 0) throw conflict('Part of this order is already paid: it cannot be voided.', 'has-payments');
    const settings = await getSettings(trx);
    const lines = await orderLines(trx, orderId);
    const { record, totals } = orderRecord(order, settings, actor, lines, await lineModifiers(trx, lines.map((l) => l.id)));
    const entry = await appendEntry(trx, deps.clock, { kind: 'void', record: { ...record, reason }, voids: totals.total });
    const now = deps.clock.now();
    await trx('orders').where({ id: orderId }).update({
      status: 'voided', void_reason: reason, receipt_no: entry.receipt_no, journal_seq: entry.seq, closed_at: now, version: order.version + 1, updated_at: now,
      void_approved_by: actor.approvedBy ?? null, void_idempotency_key: idempotencyKey ?? null,
    });
    await emitEvent(trx, deps.clock, 'order.voided', { orderId, number: order.number, receiptNo: entry.receipt_no, total: totals.total, reason });
    await audit(trx, deps.clock, {
      action: 'void', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId,
      details: { orderId, orderNumber: order.number, receiptNo: entry.receipt_no, total: totals.total, reason },
    });
    return { version: order.version + 1, replayed: false };
  });
  if (!done.replayed) {
    deps.events.publish('order:changed', { orderId, version: done.version });
    deps.events.publish('outbox:written', { topic: WEBHOOK_TOPIC });
  }
  return done;
}

export interface RefundRequest {
  reason: string;
  idempotencyKey: string;
  /** per line id, how many to refund; undefined refunds everything not yet refunded */
  lines?: Map<number, number>;
}

/**
 * Refunds a paid sale, whole or by line: a new negative record with its own receipt number;
 * the original order and its journal entry stay untouched. Amounts are the exact shares of what
 * was charged; the last refund of a line takes whatever remains, so refunds never exceed a sale.
 */
export async function refundOrder(deps: OrderDeps, orderId: number, req: RefundRequest, actor: Actor = {}) {
  const result = await inTransaction(deps.db, async (trx) => {
    const order = await lockOrder(trx, orderId);
    if (!order) throw notFound('That order');
    const prior = await trx('refunds').where({ idempotency_key: req.idempotencyKey }).first();
    if (prior) {
      if (prior.order_id !== orderId) throw unprocessable('This idempotency key was already used for another refund.', 'idempotency-mismatch');
      return { refundId: prior.id as number, total: prior.total as number, receiptNo: prior.receipt_no as number, replayed: true };
    }
    if (order.status !== 'paid') throw conflict('Only a paid sale can be refunded.', 'not-refundable');
    const settings = await getSettings(trx);
    const lines = await orderLines(trx, orderId);
    const done = await refundedByLine(trx, orderId);
    const picked: Array<{ line: LineRow; quantity: number; net: Minor; tax: Minor }> = [];
    if (req.lines) {
      for (const lineId of req.lines.keys()) {
        if (!lines.some((l) => l.id === lineId)) throw unprocessable(`Line ${lineId} is not part of this sale.`, 'unknown-line');
      }
    }
    for (const line of lines) {
      const prev = done.get(line.id) ?? { quantity: 0, net: 0, tax: 0 };
      const remaining = line.quantity - prev.quantity;
      const q = req.lines ? req.lines.get(line.id) ?? 0 : remaining;
      if (q === 0) continue;
      if (!Number.isInteger(q) || q < 0) throw invalid('Refund quantities must be whole numbers.');
      if (q > remaining) throw unprocessable(`Only ${remaining} of ${line.name} can still be refunded.`, 'refund-too-much');
      const last = q === remaining;
      const net = last ? line.net! - prev.net : Number(divRound(BigInt(line.net!) * BigInt(q), BigInt(line.quantity)));
      const tax = last ? line.tax! - prev.tax : Number(divRound(BigInt(line.tax!) * BigInt(q), BigInt(line.quantity)));
      picked.push({ line, quantity: q, net, tax });
    }
    if (!picked.length) throw unprocessable('Nothing left to refund on this sale.', 'nothing-to-refund');
    const net = picked.reduce((s, p) => s + p.net, 0);
    const taxTotal = picked.reduce((s, p) => s + p.tax, 0);
    const total = settings.pricesIncludeTax ? net : net + taxTotal;
    const byRate = new Map<number, { name: string; ppm: number; tax: number; net: number }>();
    for (const p of picked) {
      const r = byRate.get(p.line.tax_rate_id) ?? { name: p.line.tax_name, ppm: p.line.tax_ppm, tax: 0, net: 0 };
      r.tax += p.tax;
      r.net += p.net;
      byRate.set(p.line.tax_rate_id, r);
    }
    const entry = await appendEntry(trx, deps.clock, {
      kind: 'refund',
      record: {
        order_id: order.id,
        order_number: order.number,
        original_receipt_no: order.receipt_no,
        original_seq: order.journal_seq,
        business_date: businessDate(deps.clock.now(), settings.timezone, settings.businessDayStart),
        currency: settings.currency,
        prices_include_tax: settings.pricesIncludeTax,
        reason: req.reason,
        staff: staffRecord(actor),
        approved_by: approverRecord(actor),
        terminal: actor.terminal ?? null,
        lines: picked.map((p) => ({ line_id: p.line.id, product_id: p.line.product_id, name: p.line.name, quantity: -p.quantity, unit_price: p.line.unit_price, net: -p.net, tax: -p.tax, tax_rate: { id: p.line.tax_rate_id, name: p.line.tax_name, ppm: p.line.tax_ppm } })),
        taxes: [...byRate.entries()].map(([id, r]) => ({ tax_rate_id: id, name: r.name, ppm: r.ppm, base: -(settings.pricesIncludeTax ? r.net - r.tax : r.net), tax: -r.tax })),
        tax_total: -taxTotal,
        total: -total,
        tenders: [{ method: 'cash', amount: -total }],
      },
      refunds: total,
    });
    const [refund] = await trx('refunds')
      .insert({
        order_id: orderId, receipt_no: entry.receipt_no, journal_seq: entry.seq, reason: req.reason, total, tax_total: taxTotal, idempotency_key: req.idempotencyKey,
        staff_id: actor.staffId ?? null, approved_by: actor.approvedBy ?? null, terminal_id: actor.terminalId ?? null, created_at: deps.clock.now(),
      })
      .returning('id');
    await audit(trx, deps.clock, {
      action: 'refund', staffId: actor.staffId, approvedBy: actor.approvedBy, terminalId: actor.terminalId,
      details: { orderId, refundId: refund.id, receiptNo: entry.receipt_no, total, reason: req.reason },
    });
    await emitEvent(trx, deps.clock, 'refund.created', { refundId: refund.id, orderId, receiptNo: entry.receipt_no, total, currency: settings.currency, reason: req.reason });
    await trx('refund_lines').insert(picked.map((p) => ({ refund_id: refund.id, order_line_id: p.line.id, quantity: p.quantity, net: p.net, tax: p.tax })));
    return { refundId: refund.id as number, total, receiptNo: entry.receipt_no!, replayed: false };
  });
  if (!result.replayed) deps.events.publish('outbox:written', { topic: WEBHOOK_TOPIC });
  return result;
}
