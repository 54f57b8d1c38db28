import crypto from 'node:crypto';
import type { Trx } from '../db/knex';

/**
 * Orders, payments and refunds rebuilt from journal entries that came back from the cloud ledger
 * after a restore (issue 25): the backup lacks what was sold after it, the ledger holds its
 * entries, and the journal adopts them (journal/sync.ts `adoptEntries`). Replayed here in the
 * same transaction, so the rows that reports, X/Z and the export read agree with the journal
 * again. Every row written is marked `restored` (migration 0027).
 *
 * An entry's record is the complete record of what happened (orders/record.ts, refund.ts):
 * - a sale or void closes its order: an order the backup held still open becomes the record's
 *   (its lines made the record's lines); one it lacked is inserted with the record's id;
 * - a refund adds its refund and refund lines to the order it refunds;
 * - other kinds (cash movements, Z closures) carry no order.
 *
 * Ids: a start after a restore moves the id sequences past anything the ledger can hold
 * (`makeRoomForRestoredRecords`), so an order opened on the restored store before the heads
 * were compared never takes an id the ledger's entries use. Its short number can still be one
 * of theirs (numbers restart from the backup's counter): that open order moves to the day's next
 * number, since the journal's number is printed on a receipt and cannot change.
 */

interface Links {
  products: Set<number>;
  taxRates: Set<number>;
  modifiers: Map<string, number>;
  staff: Set<number>;
}

interface RecordLine {
  line_id: number;
  product_id: number | null;
  name: string;
  quantity: number;
  unit_price: number;
  modifiers?: Array<{ group: string; name: string; price_delta: number }>;
  note?: string | null;
  price_override?: { original_price: number; price: number; reason: string } | null;
  discount?: { kind: 'percent' | 'amount'; value: number } | null;
  net: number;
  tax: number;
  tax_rate: { id: number | null; name: string; ppm: number };
  course?: number;
  seat?: number | null;
  comp?: { reason: string } | null;
  void?: { reason: string; sent_quantity: number } | null;
}

interface Tender {
  method: string;
  amount: number;
  tendered?: number;
  change?: number;
  tip?: number;
  brand?: string | null;
  last4?: string | null;
  payment_intent?: string | null;
}

/** What a replay reads of an entry: its journal fields and its record. */
export interface ReplayEntry {
  seq: number;
  kind: string;
  at: string;
  receipt_no?: number;
  [key: string]: unknown;
}

/** The id sequences that journal records name rows by. */
const SEQUENCED = ['orders', 'order_lines', 'order_line_modifiers', 'payments', 'refunds', 'refund_lines'];

/** A store makes far fewer than this many of each between a backup and its restore. */
const ROOM = 1_000_000;

/**
 * Moves every id sequence a journal record names rows by ROOM past where it stands, so rows made
 * on a restored store before it compared with the ledger never take an id the ledger's entries
 * use (ids are internal: the gap costs nothing).
 */
export async function makeRoomForRestoredRecords(trx: Trx): Promise<void> {
  for (const table of SEQUENCED) {
    await trx.raw(`select setval(pg_get_serial_sequence(?, 'id'), greatest((select coalesce(max(id), 0) from ??), (select last_value from ${table}_id_seq)) + ?)`, [table, table, ROOM]);
  }
}

/** What a replay did: how many entries became rows, and those it could not replay (with why). */
export interface ReplayResult {
  replayed: number;
  skipped: Array<{ seq: number; reason: string }>;
}

/**
 * Replays adopted journal entries into orders, payments and refunds. Each entry is replayed in a
 * savepoint of its own: one whose record cannot become rows (not an order's record, or one that
 * conflicts with a row here) is skipped and named in the answer, and never stops the journal
 * from taking the ledger's entries, which is what keeps receipt numbers from being issued twice.
 */
export async function replayEntries(trx: Trx, entries: readonly ReplayEntry[]): Promise<ReplayResult> {
  const links = await readLinks(trx);
  const out: ReplayResult = { replayed: 0, skipped: [] };
  for (const e of entries) {
    if (e.kind !== 'sale' && e.kind !== 'void' && e.kind !== 'refund') continue;
    const why = notReplayable(e);
    if (why) {
      out.skipped.push({ seq: e.seq, reason: why });
      continue;
    }
    try {
      await trx.transaction(async (sp) => (e.kind === 'refund' ? replayRefund(sp, e, links) : replayClose(sp, e, links)));
      out.replayed++;
    } catch (err) {
      out.skipped.push({ seq: e.seq, reason: (err as Error).message });
    }
  }
  if (out.replayed) await advanceSequences(trx);
  return out;
}

const isId = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) > 0;
const isAmount = (v: unknown): boolean => Number.isSafeInteger(v);

/** Why an entry's record cannot become an order's rows; undefined when it can. */
function notReplayable(e: ReplayEntry): string | undefined {
  if (!isId(e.order_id) || !isId(e.order_number)) return 'its record names no order';
  if (typeof e.business_date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(e.business_date)) return 'its record has no business date';
  if (!isAmount(e.total) || !isAmount(e.tax_total)) return 'its record has no totals';
  const lines = e.lines;
  if (!Array.isArray(lines)) return 'its record has no lines';
  for (const l of lines as Array<Record<string, unknown>>) {
    if (!isId(l?.line_id) || !Number.isSafeInteger(l.quantity) || !isAmount(l.net) || !isAmount(l.tax) || typeof l.name !== 'string') return 'a line of its record is incomplete';
    const rate = l.tax_rate as Record<string, unknown> | undefined;
    if (!rate || typeof rate.name !== 'string' || !Number.isSafeInteger(rate.ppm)) return 'a line of its record has no tax rate';
  }
  if (e.kind === 'sale') {
    const tenders = e.tenders;
    if (!Array.isArray(tenders) || tenders.some((t: Record<string, unknown>) => typeof t?.method !== 'string' || !isAmount(t.amount))) return 'its record has no tenders';
    if (!isAmount(e.subtotal) || !isAmount(e.discount_total)) return 'its record has no totals';
  }
  return undefined;
}

async function readLinks(trx: Trx): Promise<Links> {
  // one after another: a transaction is one connection
  const products = await trx('products').pluck('id');
  const taxRates = await trx('tax_rates').pluck('id');
  const modifiers = await trx('modifiers as m').join('modifier_groups as g', 'g.id', 'm.group_id').select('m.id', 'm.name', 'g.name as group_name');
  const staff = await trx('staff').pluck('id');
  return {
    products: new Set(products.map(Number)),
    taxRates: new Set(taxRates.map(Number)),
    modifiers: new Map(modifiers.map((m: { id: number; name: string; group_name: string }) => [`${m.group_name}\u0000${m.name}`, Number(m.id)])),
    staff: new Set(staff.map(Number)),
  };
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const staffOf = (rec: Record<string, unknown>, links: Links): number | null => {
  const s = rec.staff as { id?: number } | null | undefined;
  return s?.id !== undefined && links.staff.has(s.id) ? s.id : null;
};

async function replayClose(trx: Trx, e: ReplayEntry, links: Links): Promise<void> {
  const orderId = num(e.order_id);
  const at = new Date(e.at);
  const date = String(e.business_date);
  const number = num(e.order_number);
  const paid = e.kind === 'sale';
  const tenders = paid ? ((e.tenders as Tender[] | undefined) ?? []) : [];
  const discount = e.order_discount as { kind: 'percent' | 'amount'; value: number } | null;
  const closed = {
    status: paid ? 'paid' : 'voided',
    subtotal: num(e.subtotal), discount_total: num(e.discount_total), tax_total: num(e.tax_total), total: num(e.total),
    paid_total: tenders.reduce((s, t) => s + t.amount, 0), rounding: num(e.rounding ?? 0),
    discount_kind: discount?.kind ?? null, discount_value: discount?.value ?? null,
    receipt_no: e.receipt_no, journal_seq: e.seq, void_reason: paid ? null : String(e.reason ?? ''),
    sales_date: date, // the business date the entry counts on (server/reports/)
    closed_at: at, updated_at: at, restored: true,
  };
  const mine = await trx('orders').where({ id: orderId }).forUpdate().first('id', 'status', 'version');
  if (mine) {
    // the backup held it open: it becomes what the journal says it was when it closed
    await trx('orders').where({ id: orderId }).update({ ...closed, version: mine.version + 1 });
  } else {
    const taken = await trx('orders').where({ business_date: date, number }).first('id', 'status');
    if (taken) await moveToNextNumber(trx, taken.id, date);
    await trx('orders').insert({
      id: orderId, number, business_date: date, type: e.order_type, customer_name: e.customer_name ?? null,
      staff_id: staffOf(e, links), created_at: at, version: 1, ...closed,
    });
  }
  await trx.raw('insert into order_counters (business_date, last_number) values (?, ?) on conflict (business_date) do update set last_number = greatest(order_counters.last_number, excluded.last_number)', [date, number]);
  await replaceLines(trx, orderId, (e.lines as RecordLine[] | undefined) ?? [], at, links);
  for (const [i, t] of tenders.entries()) {
    await trx('payments').insert({
      order_id: orderId, method: t.method, amount: t.amount, tendered: t.tendered ?? t.amount, change: t.change ?? 0, tip: t.tip ?? 0,
      idempotency_key: `restored:${e.seq}:${i}`, staff_id: staffOf(e, links), created_at: at, restored: true,
      // a card tender as its entry names it: Stripe's ids, brand and last four (server/payments/)
      ...(t.method === 'card' ? {
        card_ref: crypto.randomUUID(), card_request: JSON.stringify({ restored_from_seq: e.seq }),
        stripe_payment_intent_id: t.payment_intent ?? null, card_brand: t.brand ?? null, card_last4: t.last4 ?? null,
      } : {}),
    });
  }
}

/** An open order made on the restored store holds a number the journal gave another order: it takes the day's next one. */
async function moveToNextNumber(trx: Trx, orderId: number, date: string): Promise<void> {
  const [{ last_number: next }] = await trx('order_counters').where({ business_date: date }).increment('last_number', 1).returning('last_number');
  await trx('orders').where({ id: orderId }).update({ number: next });
}

/** The order's lines made the record's: lines it names are updated or inserted by id, the others (removed later) deleted. */
async function replaceLines(trx: Trx, orderId: number, lines: readonly RecordLine[], at: Date, links: Links): Promise<void> {
  const keep = lines.map((l) => l.line_id);
  await trx('order_lines').where({ order_id: orderId }).whereNotIn('id', keep).delete();
  const existing = new Set((await trx('order_lines').where({ order_id: orderId }).pluck('id')).map(Number));
  for (const l of lines) {
    const mods = l.modifiers ?? [];
    const delta = mods.reduce((s, m) => s + m.price_delta, 0);
    const row = {
      order_id: orderId,
      product_id: l.product_id !== null && links.products.has(l.product_id) ? l.product_id : null,
      name: l.name, quantity: l.quantity, unit_price: l.unit_price, base_price: l.unit_price - delta, note: l.note ?? null,
      tax_rate_id: l.tax_rate.id !== null && links.taxRates.has(l.tax_rate.id) ? l.tax_rate.id : null, tax_name: l.tax_rate.name, tax_ppm: l.tax_rate.ppm,
      discount_kind: l.discount?.kind ?? null, discount_value: l.discount?.value ?? null,
      override_reason: l.price_override?.reason ?? null, original_price: l.price_override?.original_price ?? null,
      net: l.net, tax: l.tax, course: l.course ?? 1, seat: l.seat ?? null,
      sent_quantity: l.void ? l.void.sent_quantity : 0, void_reason: l.void?.reason ?? null, comp_reason: l.comp?.reason ?? null,
      restored: true,
    };
    if (existing.has(l.line_id)) {
      await trx('order_lines').where({ id: l.line_id }).update(row);
      await trx('order_line_modifiers').where({ line_id: l.line_id }).delete();
    } else {
      await trx('order_lines').insert({ id: l.line_id, created_at: at, ...row });
    }
    if (mods.length) {
      await trx('order_line_modifiers').insert(mods.map((m) => ({
        line_id: l.line_id, modifier_id: links.modifiers.get(`${m.group}\u0000${m.name}`) ?? null, group_name: m.group, name: m.name, price_delta: m.price_delta,
      })));
    }
  }
}

async function replayRefund(trx: Trx, e: ReplayEntry, links: Links): Promise<void> {
  const orderId = num(e.order_id);
  const tenders = (e.tenders as Tender[] | undefined) ?? [];
  const method = tenders[0]?.method ?? 'cash';
  // a card refund went back to the order's card payment
  const card = method === 'card' ? await trx('payments').where({ order_id: orderId, method: 'card', status: 'succeeded' }).orderBy('id').first('id') : undefined;
  const [refund] = await trx('refunds').insert({
    order_id: orderId, receipt_no: e.receipt_no, journal_seq: e.seq, reason: String(e.reason ?? ''),
    total: -num(e.total), tax_total: -num(e.tax_total), method, payment_id: card?.id ?? null, business_date: String(e.business_date),
    staff_id: staffOf(e, links), created_at: new Date(e.at), restored: true,
  }).returning('id');
  const lines = (e.lines as RecordLine[] | undefined) ?? [];
  if (lines.length) {
    await trx('refund_lines').insert(lines.map((l) => ({ refund_id: refund.id, order_line_id: l.line_id, quantity: -l.quantity, net: -l.net, tax: -l.tax })));
  }
}

/** Rows inserted with the journal's ids: each sequence moves past the largest id, so the next row made here takes a free one. */
async function advanceSequences(trx: Trx): Promise<void> {
  for (const table of SEQUENCED) {
    await trx.raw(`select setval(pg_get_serial_sequence(?, 'id'), greatest((select coalesce(max(id), 0) from ??), (select last_value from ${table}_id_seq)))`, [table, table]);
  }
}
