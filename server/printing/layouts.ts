import type { PrintDoc } from '../../drivers/printer/encode';
import { localTime, orderNo, Slip } from './layout-kit';

/**
 * The slips the store prints, as pure functions of their layout input and the paper's columns.
 * A job keeps its input (JSON, in print_jobs.input) beside its bytes: a job that fails over to a
 * printer of another width or code page is laid out again from it (./render.ts).
 */

export interface StoreHeader {
  name: string;
  /** the receipt header and footer settings, as typed (several lines) */
  header: string;
  footer: string;
  currency: string;
  timezone: string;
}

export interface SlipLine {
  quantity: number;
  name: string;
  modifiers: string[];
  note: string | null;
  /** the line's price before its discount, modifiers included (minor units) */
  gross: number;
  /** its own discount (minor units, positive) */
  discount: number;
  comp: boolean;
}

export interface TaxLine {
  name: string;
  percent: string;
  base: number;
  tax: number;
}

export interface ReceiptInput {
  kind: 'receipt';
  store: StoreHeader;
  orderNumber: number;
  receiptNo: number;
  table: string | null;
  staff: string | null;
  terminal: string | null;
  /** when the sale closed (ISO) */
  at: string;
  lines: SlipLine[];
  discountTotal: number;
  total: number;
  pricesIncludeTax: boolean;
  taxes: TaxLine[];
  tenders: Array<{ method: string; amount: number; tendered: number; change: number; tip: number }>;
  rounding: number;
  /** a reprint: every print but the one made when the sale closed */
  duplicate: boolean;
  /** kick the cash drawer first (a cash tender); dropped when the job prints late or elsewhere */
  drawer: boolean;
}

export interface GuestCheckInput {
  kind: 'guest-check';
  store: StoreHeader;
  orderNumber: number;
  table: string | null;
  covers: number | null;
  staff: string | null;
  at: string;
  lines: SlipLine[];
  discountTotal: number;
  total: number;
  pricesIncludeTax: boolean;
  taxes: TaxLine[];
  /** paid already (a part payment), and what is left */
  paid: number;
  due: number;
}

export interface RefundInput {
  kind: 'refund';
  store: StoreHeader;
  orderNumber: number;
  /** the refund's own receipt number, and the sale's */
  receiptNo: number;
  saleReceiptNo: number | null;
  at: string;
  reason: string;
  staff: string | null;
  lines: Array<{ quantity: number; name: string; amount: number }>;
  total: number;
  taxTotal: number;
  duplicate: boolean;
}

export type KitchenMarker = 'NEW' | 'ADDITION' | 'VOID' | 'NOTE';

export interface KitchenInput {
  kind: 'kitchen';
  station: string;
  timezone: string;
  orderNumber: number;
  orderType: string;
  table: string | null;
  server: string | null;
  customer: string | null;
  sendNo: number;
  at: string;
  items: Array<{ marker: KitchenMarker; quantity: number; name: string; modifiers: string[]; note: string | null; seat: number | null; course: number }>;
}

export interface TestInput {
  kind: 'test';
  printer: string;
  address: string;
  paperWidth: number;
  at: string;
  timezone: string;
}

export interface DrawerInput {
  kind: 'drawer';
  at: string;
}

/** An X (any time, nothing reset) or Z (the close of a business day) report: rows as server/reports/ makes them. */
export interface DayReportInput {
  kind: 'day-report';
  store: StoreHeader;
  title: string;
  businessDate: string;
  staff: string | null;
  at: string;
  rows: Array<{ label: string; amount?: number; text?: string; rule?: boolean; bold?: boolean }>;
}

export type JobInput = ReceiptInput | GuestCheckInput | RefundInput | KitchenInput | TestInput | DrawerInput | DayReportInput;
export type JobKind = JobInput['kind'];

/** What is printed on a job beyond its input: where it came from, whether it may have printed. */
export interface JobMarks {
  /** printed on the fallback of this printer */
  backupFrom?: string;
  /** the job may have printed already (it was in flight at a crash, or unconfirmed) */
  possibleDuplicate?: boolean;
  /** staff asked for it again from the back office */
  reprint?: boolean;
  /** kick the drawer (only for a job still on its own printer, and on time) */
  drawer?: boolean;
}

/** The job's slip for `columns` (32, 42 or 48). */
export function layoutJob(input: JobInput, columns: number, marks: JobMarks = {}): PrintDoc {
  const s = new Slip(columns, 'store' in input ? input.store.currency : 'EUR');
  if (marks.drawer) s.drawer();
  if (input.kind === 'drawer') return { ops: s.ops }; // a pulse, no paper
  if (marks.backupFrom) s.banner(`BACKUP FROM ${marks.backupFrom}`);
  if (marks.possibleDuplicate) s.banner('POSSIBLE DUPLICATE');
  if (marks.reprint && input.kind !== 'receipt' && input.kind !== 'refund') s.banner('REPRINT');
  switch (input.kind) {
    case 'receipt':
      receipt(s, input);
      break;
    case 'guest-check':
      guestCheck(s, input);
      break;
    case 'refund':
      refund(s, input);
      break;
    case 'kitchen':
      kitchen(s, input);
      break;
    case 'test':
      testPage(s, input);
      break;
    case 'day-report':
      dayReport(s, input);
      break;
  }
  if (marks.backupFrom) s.banner(`BACKUP FROM ${marks.backupFrom}`);
  return { ops: s.cut().ops };
}

function header(s: Slip, store: StoreHeader) {
  s.title(store.name);
  if (store.header.trim()) s.centre(store.header.trim());
  s.rule();
}

function items(s: Slip, lines: SlipLine[]) {
  for (const l of lines) {
    if (l.quantity === 0) continue;
    s.amount(`${l.quantity} x ${l.name}`, l.gross);
    for (const m of l.modifiers) s.detail(`+ ${m}`);
    if (l.note) s.detail(`"${l.note}"`);
    if (l.comp) s.detail('on the house');
    if (l.discount) s.amount('   Discount', -l.discount);
  }
}

function totalsBlock(s: Slip, i: { discountTotal: number; total: number; pricesIncludeTax: boolean; taxes: TaxLine[] }) {
  s.rule();
  if (i.discountTotal) s.amount('Discounts', -i.discountTotal);
  s.amount('TOTAL', i.total, { bold: true, height: 2 });
  for (const t of i.taxes) s.amount(`${i.pricesIncludeTax ? 'incl. ' : ''}${t.name} on ${s.money(t.base)}`, t.tax);
}

function receipt(s: Slip, r: ReceiptInput) {
  header(s, r.store);
  if (r.duplicate) s.banner('DUPLICATE');
  s.pair(`Receipt ${r.receiptNo}`, `Order ${orderNo(r.orderNumber)}`);
  s.pair(localTime(r.at, r.store.timezone), [r.terminal, r.staff].filter(Boolean).join(' · '));
  if (r.table) s.text(r.table);
  s.rule();
  items(s, r.lines);
  totalsBlock(s, r);
  s.rule();
  for (const t of r.tenders) {
    const method = t.method === 'cash' ? 'Cash' : t.method.charAt(0).toUpperCase() + t.method.slice(1);
    s.amount(method, t.tendered);
    if (t.tip) s.amount('  of which tip', t.tip);
    if (t.change) s.amount('Change', t.change, { bold: true });
  }
  if (r.rounding) s.amount('Cash rounding', r.rounding);
  if (r.duplicate) s.banner('DUPLICATE');
  if (r.store.footer.trim()) s.rule().centre(r.store.footer.trim());
  s.feed(1).text('', { align: 'center' }).qr(`R-${r.receiptNo}`).centre(`R-${r.receiptNo}`);
}

function guestCheck(s: Slip, g: GuestCheckInput) {
  header(s, g.store);
  s.title('NOT A RECEIPT', { big: true });
  s.pair(`Order ${orderNo(g.orderNumber)}`, g.table ?? '');
  s.pair(localTime(g.at, g.store.timezone), [g.staff, g.covers ? `${g.covers} guests` : null].filter(Boolean).join(' · '));
  s.rule();
  items(s, g.lines);
  totalsBlock(s, g);
  if (g.paid) {
    s.amount('Paid', g.paid);
    s.amount('TO PAY', g.due, { bold: true });
  }
  s.rule();
  s.title('NOT A RECEIPT', { big: false });
}

function refund(s: Slip, r: RefundInput) {
  header(s, r.store);
  s.title('REFUND');
  if (r.duplicate) s.banner('DUPLICATE');
  s.pair(`Receipt ${r.receiptNo}`, `Order ${orderNo(r.orderNumber)}`);
  if (r.saleReceiptNo) s.text(`Refund of receipt ${r.saleReceiptNo}`);
  s.pair(localTime(r.at, r.store.timezone), r.staff ?? '');
  s.text(`Reason: ${r.reason}`);
  s.rule();
  for (const l of r.lines) s.amount(`${l.quantity} x ${l.name}`, -l.amount);
  s.rule();
  s.amount('REFUNDED', -r.total, { bold: true, height: 2 });
  s.amount('of which tax', -r.taxTotal);
  s.feed(1).text('', { align: 'center' }).qr(`R-${r.receiptNo}`).centre(`R-${r.receiptNo}`);
}

const ORDER_TYPES: Record<string, string> = { counter: 'Counter', takeaway: 'Take-away', dine_in: 'Dine-in' };

function kitchen(s: Slip, k: KitchenInput) {
  s.text(k.station.toUpperCase(), { bold: true, align: 'center' });
  s.text(orderNo(k.orderNumber), { bold: true, width: 2, height: 2, align: 'center' });
  const where = [k.table, ORDER_TYPES[k.orderType] ?? k.orderType, k.customer].filter(Boolean).join(' · ');
  s.text(where, { bold: true, align: 'center' });
  s.pair(localTime(k.at, k.timezone, 'time') + (k.sendNo > 1 ? ` · send ${k.sendNo}` : ''), k.server ? `Server: ${k.server}` : '');
  s.rule('=');
  const courses = [...new Set(k.items.map((i) => i.course))].sort((a, b) => a - b);
  for (const course of courses) {
    if (courses.length > 1 || course > 1) s.text(`-- Course ${course} --`, { bold: true, align: 'center' });
    for (const it of k.items.filter((i) => i.course === course)) {
      const marker = it.marker === 'NEW' ? '' : it.marker === 'NOTE' ? 'NOTE CHANGE ' : `${it.marker} `;
      s.text(`${marker}${it.quantity} x ${it.name}`, { bold: true, height: 2 });
      for (const m of it.modifiers) s.detail(`+ ${m}`);
      if (it.note) s.detail(`! ${it.note}`);
      if (it.seat) s.detail(`Seat ${it.seat}`);
    }
  }
  s.rule('=');
}

function testPage(s: Slip, t: TestInput) {
  s.title('Test print', { big: true });
  s.text(t.printer, { bold: true, align: 'center' });
  s.centre(`${t.address} · ${t.paperWidth} mm`);
  s.centre(localTime(t.at, t.timezone));
  s.rule();
  s.text('1234567890'.repeat(Math.ceil(s.columns / 10)).slice(0, s.columns));
  s.text('€ é ü ñ ø à ç ß Æ Å');
  s.pair('Left', 'right');
  s.text('Bold', { bold: true }).text('Double size', { width: 2, height: 2 });
  s.text('', { align: 'center' }).qr('Test print');
}

function dayReport(s: Slip, r: DayReportInput) {
  header(s, r.store);
  s.title(r.title, { big: true });
  s.pair(`Business day ${r.businessDate}`, localTime(r.at, r.store.timezone));
  if (r.staff) s.text(r.staff);
  s.rule();
  for (const row of r.rows) {
    if (row.rule) s.rule();
    if (row.amount !== undefined) s.amount(row.label, row.amount, { bold: row.bold });
    else s.pair(row.label, row.text ?? '', { bold: row.bold });
  }
}
