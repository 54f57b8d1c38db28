import { allocate, type Minor, type Totals } from '../money';
import type { BusinessSettings } from '../settings/schema';
import type { Actor } from './change';
import type { LineRow, ModifierRow, OrderRow } from './queries';
import { totalsFor } from './totals';

export const staffRecord = (a: Actor) => (a.staffId ? { id: a.staffId, name: a.staffName ?? null } : null);
export const approverRecord = (a: Actor) => (a.approvedBy ? { id: a.approvedBy, name: a.approverName ?? null } : null);

/** The complete record of an order for its journal entry: every line, modifier, discount, tax. */
export function orderRecord(order: OrderRow, settings: BusinessSettings, actor: Actor, lines: LineRow[], mods: ModifierRow[]) {
  const totals = totalsFor(order, lines, settings);
  const lineTax = allocateLineTax(lines, totals);
  const byKey = new Map(totals.lines.map((l) => [l.key, l]));
  const record = {
    order_id: order.id,
    order_number: order.number,
    business_date: order.business_date,
    order_type: order.type,
    customer_name: order.customer_name,
    currency: settings.currency,
    prices_include_tax: settings.pricesIncludeTax,
    staff: staffRecord(actor),
    approved_by: approverRecord(actor),
    terminal: actor.terminal ?? null,
    lines: lines.map((l) => {
      const t = byKey.get(String(l.id))!;
      return {
        line_id: l.id,
        product_id: l.product_id,
        name: l.name,
        quantity: l.quantity,
        unit_price: l.unit_price,
        modifiers: mods.filter((m) => m.line_id === l.id).map((m) => ({ group: m.group_name, name: m.name, price_delta: m.price_delta })),
        note: l.note,
        price_override: l.override_reason ? { original_price: l.original_price, price: l.base_price, reason: l.override_reason } : null,
        discount: l.discount_kind ? { kind: l.discount_kind, value: l.discount_value } : null,
        gross: t.gross,
        line_discount: t.lineDiscount,
        order_discount: t.orderDiscount,
        net: t.net,
        tax_rate: { id: l.tax_rate_id, name: l.tax_name, ppm: l.tax_ppm },
        tax: lineTax.get(l.id)!,
        course: l.course,
        seat: l.seat,
        comp: l.comp_reason ? { reason: l.comp_reason } : null,
        void: l.void_reason ? { reason: l.void_reason, sent_quantity: l.sent_quantity } : null,
      };
    }),
    order_discount: order.discount_kind ? { kind: order.discount_kind, value: order.discount_value } : null,
    subtotal: totals.subtotal,
    discount_total: totals.discountTotal,
    taxes: totals.taxes.map((x) => {
      const l = lines.find((ln) => String(ln.tax_rate_id) === x.taxRateId)!;
      return { tax_rate_id: Number(x.taxRateId), name: l.tax_name, ppm: x.ppm, base: x.base, tax: x.tax };
    }),
    tax_total: totals.taxTotal,
    total: totals.total,
  };
  return { record, totals, lineTax };
}

/** Each rate's tax shared over its lines by net amount (largest remainder), so refunds take exact shares. */
export function allocateLineTax(lines: LineRow[], totals: Totals): Map<number, Minor> {
  const out = new Map<number, Minor>();
  const byKey = new Map(totals.lines.map((l) => [l.key, l]));
  for (const t of totals.taxes) {
    const ls = lines.filter((l) => String(l.tax_rate_id) === t.taxRateId);
    const shares = allocate(t.tax, ls.map((l) => byKey.get(String(l.id))!.net));
    ls.forEach((l, i) => out.set(l.id, shares[i]));
  }
  return out;
}
