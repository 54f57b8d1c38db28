import type { Clock } from '../clock';
import type { Db, Trx } from '../db/knex';
import { conflict, invalid, notFound, unprocessable } from '../errors';
import { allocate, splitEvenly, splitMatrix, type Minor } from '../money';
import { assertOpen, isOpen, lockOrder, nextOrderNumber, orderLines, recompute, totalsFor, type LineRow, type OrderEvents, type OrderRow } from '../orders/service';
import { getSettings } from '../settings/service';
import type { BusinessSettings } from '../settings/schema';

/**
 * Check operations: transfer, merge and split. Whatever happens, the parts' totals and per-rate
 * taxes add up exactly to what the checks were before: discounts are first fixed to amounts on
 * their lines, and each part's taxes are set to its exact share of the original per-rate tax.
 */
export interface CheckDeps {
  db: Db;
  clock: Clock;
  events: OrderEvents;
}

async function lockOpen(trx: Trx, id: number): Promise<OrderRow> {
  const o = await lockOrder(trx, id);
  if (!o) throw notFound('That check');
  assertOpen(o);
  return o;
}

/** Fixes line and order discounts as amounts on each line, so moving lines keeps every amount. */
async function fixDiscounts(trx: Trx, order: OrderRow, settings: BusinessSettings) {
  const lines = await orderLines(trx, order.id);
  const t = totalsFor(order, lines, settings);
  for (const l of lines) {
    if (l.comp_reason || l.quantity === 0) continue;
    const lt = t.lines.find((x) => x.key === String(l.id))!;
    const d = lt.lineDiscount + lt.orderDiscount;
    await trx('order_lines').where({ id: l.id }).update(d ? { discount_kind: 'amount', discount_value: d } : { discount_kind: null, discount_value: null });
  }
  await trx('orders').where({ id: order.id }).update({ discount_kind: null, discount_value: null });
}

/** Per rate, each part's net (for weights) under its natural computation. */
async function partRates(trx: Trx, id: number, settings: BusinessSettings) {
  const o = (await lockOrder(trx, id))!;
  const lines = await orderLines(trx, id);
  const t = totalsFor({ ...o, tax_adjustments: null }, lines, settings);
  const nets = new Map<string, Minor>();
  t.lines.forEach((lt) => {
    const l = lines.find((x) => String(x.id) === lt.key)!;
    nets.set(String(l.tax_rate_id), (nets.get(String(l.tax_rate_id)) ?? 0) + lt.net);
  });
  return { order: o, natural: new Map(t.taxes.map((x) => [x.taxRateId, x.tax])), nets };
}

/** Sets each part's tax per rate to its exact share of `target` and recomputes its totals. */
async function settleTaxes(trx: Trx, clock: Clock, partIds: number[], target: Map<string, Minor>, settings: BusinessSettings) {
  const parts = [];
  for (const id of partIds) parts.push(await partRates(trx, id, settings));
  const adjustments = partIds.map(() => ({}) as Record<string, number>);
  for (const [rate, tax] of target) {
    const shares = allocate(tax, parts.map((p) => Math.max(0, p.nets.get(rate) ?? 0)));
    parts.forEach((p, i) => {
      const adj = shares[i] - (p.natural.get(rate) ?? 0);
      if (adj) adjustments[i][rate] = adj;
    });
  }
  const versions: Array<[number, number]> = [];
  for (let i = 0; i < parts.length; i++) {
    await trx('orders').where({ id: partIds[i] }).update({ tax_adjustments: Object.keys(adjustments[i]).length ? JSON.stringify(adjustments[i]) : null });
    versions.push([partIds[i], await recompute(trx, clock, (await lockOrder(trx, partIds[i]))!, settings)]);
  }
  return versions;
}

async function newPart(trx: Trx, clock: Clock, from: OrderRow): Promise<OrderRow> {
  const now = clock.now();
  const [row] = await trx('orders')
    .insert({
      number: await nextOrderNumber(trx, from.business_date), business_date: from.business_date, type: from.type, customer_name: from.customer_name,
      table_id: from.table_id, covers: null, seated_at: from.seated_at, first_sent_at: from.first_sent_at, staff_id: from.staff_id,
      terminal_id: from.terminal_id, split_from: from.id, created_at: now, updated_at: now,
    })
    .returning('*');
  return row;
}

/** Moves `q` of a line to another check, carrying its share of the fixed discount and of what was sent. */
async function moveQuantity(trx: Trx, line: LineRow, q: number, toOrderId: number, clock: Clock) {
  if (q === line.quantity) {
    await trx('order_lines').where({ id: line.id }).update({ order_id: toOrderId });
    return;
  }
  const [moveDisc, keepDisc] = line.discount_value ? allocate(line.discount_value, [q, line.quantity - q]) : [0, 0];
  const movedSent = Math.min(q, line.sent_quantity);
  const { id: _id, created_at: _c, ...copy } = line;
  const [made] = await trx('order_lines')
    .insert({ ...copy, order_id: toOrderId, quantity: q, sent_quantity: movedSent, discount_value: line.discount_value ? moveDisc : null, created_at: clock.now() })
    .returning('id');
  await trx('order_lines').where({ id: line.id }).update({
    quantity: line.quantity - q, sent_quantity: line.sent_quantity - movedSent, discount_value: line.discount_value ? keepDisc : null,
  });
  const mods = await trx('order_line_modifiers').where({ line_id: line.id });
  if (mods.length) await trx('order_line_modifiers').insert(mods.map(({ id: _m, ...m }: { id: number }) => ({ ...m, line_id: made.id })));
}

/** After commit: each check changed, and the floor. */
function announce(deps: CheckDeps, versions: Array<[number, number]>) {
  for (const [orderId, version] of versions) deps.events.publish('order:changed', { orderId, version });
  deps.events.publish('floor:changed', {});
}

export async function transferToTable(deps: CheckDeps, orderId: number, tableId: number) {
  const version = await deps.db.transaction(async (trx) => {
    const o = await lockOpen(trx, orderId);
    const table = await trx('tables').where({ id: tableId, active: true }).first();
    if (!table) throw notFound('That table');
    const busy = await trx('orders').where({ table_id: tableId }).whereRaw(isOpen()).whereNot({ id: orderId }).first('id');
    if (busy) throw conflict(`${table.name} has an open check: merge into it instead.`, 'table-busy');
    await trx('orders').where({ id: orderId }).update({ table_id: tableId, type: 'dine_in', version: o.version + 1, updated_at: deps.clock.now() });
    return o.version + 1;
  });
  announce(deps, [[orderId, version]]);
}

export async function transferToServer(deps: CheckDeps, orderId: number, staffId: number) {
  const version = await deps.db.transaction(async (trx) => {
    const o = await lockOpen(trx, orderId);
    if (!(await trx('staff').where({ id: staffId, active: true }).first('id'))) throw notFound('That member of staff');
    await trx('orders').where({ id: orderId }).update({ staff_id: staffId, version: o.version + 1, updated_at: deps.clock.now() });
    return o.version + 1;
  });
  announce(deps, [[orderId, version]]);
}

/** Merges `sourceId` into `targetId`: the lines move, the source closes as merged, the sums stay. */
export async function mergeChecks(deps: CheckDeps, targetId: number, sourceId: number) {
  if (targetId === sourceId) throw invalid('A check cannot be merged into itself.');
  const versions = await deps.db.transaction(async (trx) => {
    // lock both in id order so two merges can never deadlock
    const [first, second] = [Math.min(targetId, sourceId), Math.max(targetId, sourceId)];
    const a = await lockOpen(trx, first);
    const b = await lockOpen(trx, second);
    const [target, source] = a.id === targetId ? [a, b] : [b, a];
    if (source.paid_total > 0) throw conflict('Part of that check is paid already: it cannot be merged.', 'has-payments');
    const settings = await getSettings(trx);
    const taxes = new Map<string, Minor>();
    for (const o of [target, source]) {
      for (const x of totalsFor(o, await orderLines(trx, o.id), settings).taxes) taxes.set(x.taxRateId, (taxes.get(x.taxRateId) ?? 0) + x.tax);
    }
    await fixDiscounts(trx, target, settings);
    await fixDiscounts(trx, source, settings);
    await trx('order_lines').where({ order_id: source.id }).update({ order_id: target.id });
    await trx('orders').where({ id: source.id }).update({
      status: 'merged', split_from: target.id, closed_at: deps.clock.now(), subtotal: 0, discount_total: 0, tax_total: 0, total: 0, version: source.version + 1,
      covers: null, updated_at: deps.clock.now(),
    });
    if (source.covers) await trx('orders').where({ id: target.id }).update({ covers: (target.covers ?? 0) + source.covers });
    const v = await settleTaxes(trx, deps.clock, [target.id], taxes, settings);
    return [...v, [source.id, source.version + 1] as [number, number]];
  });
  announce(deps, versions);
}

/**
 * Splits by item: each part (line id → quantity) becomes a new check; what is not listed stays.
 * Split by seat is this with one part per seat.
 */
export async function splitByItems(deps: CheckDeps, orderId: number, parts: Array<Map<number, number>>): Promise<number[]> {
  if (!parts.length || parts.every((p) => !p.size)) throw invalid('Choose what goes on each new check.');
  const { ids, versions } = await deps.db.transaction(async (trx) => {
    const order = await lockOpen(trx, orderId);
    if (order.paid_total > 0) throw conflict('Part of this check is paid already: it cannot be split.', 'has-payments');
    const settings = await getSettings(trx);
    const before = totalsFor(order, await orderLines(trx, orderId), settings);
    await fixDiscounts(trx, order, settings);
    const lines = await orderLines(trx, orderId);
    const taken = new Map<number, number>();
    for (const p of parts) for (const [lineId, q] of p) taken.set(lineId, (taken.get(lineId) ?? 0) + q);
    for (const [lineId, q] of taken) {
      const l = lines.find((x) => x.id === lineId);
      if (!l) throw unprocessable(`Line ${lineId} is not on this check.`, 'unknown-line');
      if (!Number.isInteger(q) || q < 1 || q > l.quantity) throw unprocessable(`${l.name}: only ${l.quantity} to split.`, 'split-too-much');
    }
    const ids: number[] = [];
    for (const p of parts) {
      if (!p.size) continue;
      const part = await newPart(trx, deps.clock, order);
      for (const [lineId, q] of p) {
        const current = (await trx('order_lines').where({ id: lineId }).first()) as LineRow;
        await moveQuantity(trx, current, q, part.id, deps.clock);
      }
      ids.push(part.id);
    }
    const left = await orderLines(trx, orderId);
    const partIds = left.some((l) => l.quantity > 0) ? [orderId, ...ids] : ids;
    const closed: Array<[number, number]> = [];
    if (!partIds.includes(orderId)) {
      // every item moved: the check closes as split, and a terminal showing it hears so (its screen names the parts)
      await trx('orders').where({ id: orderId }).update({
        status: 'split', closed_at: deps.clock.now(), subtotal: 0, discount_total: 0, tax_total: 0, total: 0, version: order.version + 1, updated_at: deps.clock.now(),
      });
      closed.push([orderId, order.version + 1]);
    }
    const versions = await settleTaxes(trx, deps.clock, partIds, new Map(before.taxes.map((x) => [x.taxRateId, x.tax])), settings);
    return { ids, versions: [...versions, ...closed] };
  });
  announce(deps, versions);
  return ids;
}

/**
 * One check per seat. Lines without a seat stay on this check; when every line has a seat, the
 * lowest seat keeps this check.
 */
export async function splitBySeat(deps: CheckDeps, orderId: number): Promise<number[]> {
  const lines = (await orderLines(deps.db, orderId)).filter((l) => l.quantity > 0);
  const seats = [...new Set(lines.filter((l) => l.seat).map((l) => l.seat!))].sort((a, b) => a - b);
  const unseated = lines.some((l) => !l.seat);
  const moving = unseated ? seats : seats.slice(1);
  if (!moving.length) throw unprocessable('Lines on at least two seats are needed to split by seat.', 'nothing-to-split');
  return splitByItems(deps, orderId, moving.map((seat) => new Map(lines.filter((l) => l.seat === seat).map((l) => [l.id, l.quantity]))));
}

/**
 * Splits into shares of money: evenly into N, or by the amounts given (the rest is one more
 * share). The check closes as split; each share is a new check with one line per tax rate.
 */
export async function splitByAmounts(deps: CheckDeps, orderId: number, spec: { evenly: number } | { amounts: Minor[] }): Promise<number[]> {
  const { ids, versions } = await deps.db.transaction(async (trx) => {
    const order = await lockOpen(trx, orderId);
    if (order.paid_total > 0) throw conflict('Part of this check is paid already: it cannot be split.', 'has-payments');
    const settings = await getSettings(trx);
    const lines = await orderLines(trx, orderId);
    const t = totalsFor(order, lines, settings);
    if (t.total <= 0) throw unprocessable('There is nothing to split.', 'nothing-to-split');
    let shares: Minor[];
    if ('evenly' in spec) {
      if (!Number.isInteger(spec.evenly) || spec.evenly < 2 || spec.evenly > 20) throw invalid('Split evenly into 2 to 20.');
      shares = splitEvenly(t.total, spec.evenly);
    } else {
      const given = spec.amounts;
      const sum = given.reduce((s, a) => s + a, 0);
      if (!given.length || given.some((a) => !Number.isSafeInteger(a) || a <= 0)) throw invalid('Each amount must be more than zero.');
      if (sum > t.total) throw unprocessable('The amounts are more than the check.', 'split-too-much');
      shares = sum < t.total ? [...given, t.total - sum] : given;
    }
    // the components: per rate, the amount that carries the tax (net, incl. tax when prices include it) and, exclusive, the tax
    const rates = t.taxes.map((x) => {
      const ls = lines.filter((l) => String(l.tax_rate_id) === x.taxRateId);
      const net = t.lines.filter((lt) => ls.some((l) => String(l.id) === lt.key)).reduce((s, lt) => s + lt.net, 0);
      return { id: Number(x.taxRateId), name: ls[0].tax_name, ppm: x.ppm, net, tax: x.tax };
    });
    const components = settings.pricesIncludeTax ? rates.map((r) => r.net) : rates.flatMap((r) => [r.net, r.tax]);
    let cells: Minor[][];
    try {
      cells = splitMatrix(components, shares);
    } catch {
      throw unprocessable('The check is too small to split like that.', 'split-too-small');
    }
    const taxCells = settings.pricesIncludeTax
      ? rates.map((r, j) => allocate(r.tax, cells.map((row) => row[j]))) // tax inside each share's gross
      : rates.map((_, j) => cells.map((row) => row[2 * j + 1]));
    const ids: number[] = [];
    const versions: Array<[number, number]> = [];
    const totalParts = shares.length;
    for (let i = 0; i < shares.length; i++) {
      const part = await newPart(trx, deps.clock, order);
      const adjustments: Record<string, number> = {};
      for (let j = 0; j < rates.length; j++) {
        const r = rates[j];
        const net = settings.pricesIncludeTax ? cells[i][j] : cells[i][2 * j];
        if (net === 0 && taxCells[j][i] === 0) continue;
        await trx('order_lines').insert({
          order_id: part.id, product_id: null, name: `Share ${i + 1}/${totalParts} of #${order.number}${rates.length > 1 ? ` (${r.name})` : ''}`,
          base_price: net, unit_price: net, quantity: 1, tax_rate_id: r.id, tax_name: r.name, tax_ppm: r.ppm, created_at: deps.clock.now(),
        });
      }
      const natural = totalsFor({ ...part, tax_adjustments: null }, await orderLines(trx, part.id), settings);
      rates.forEach((r, j) => {
        const want = taxCells[j][i];
        const got = natural.taxes.find((x) => x.taxRateId === String(r.id))?.tax ?? 0;
        if (want !== got) adjustments[String(r.id)] = want - got;
      });
      await trx('orders').where({ id: part.id }).update({ tax_adjustments: Object.keys(adjustments).length ? JSON.stringify(adjustments) : null });
      versions.push([part.id, await recompute(trx, deps.clock, (await lockOrder(trx, part.id))!, settings)]);
      ids.push(part.id);
    }
    await trx('orders').where({ id: orderId }).update({
      status: 'split', closed_at: deps.clock.now(), subtotal: 0, discount_total: 0, tax_total: 0, total: 0, version: order.version + 1, updated_at: deps.clock.now(),
    });
    versions.push([orderId, order.version + 1]);
    return { ids, versions };
  });
  announce(deps, versions);
  return ids;
}

