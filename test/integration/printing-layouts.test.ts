import assert from 'node:assert/strict';
import { EscposDecoder, type DecodedOp } from '../../drivers/printer/decode';
import { EPSON_CODE_PAGES } from '../../drivers/printer/profile';
import type { GuestCheckInput, JobInput, KitchenInput, ReceiptInput, RefundInput } from '../../server/printing/layouts';
import { renderFor } from '../../server/printing/render';
import { PrinterForm, PrinterJson } from '../../server/printing/schema';

type Line = Extract<DecodedOp, { op: 'line' }>;
const store = { name: 'Café Mürren', header: 'Dorfstrasse 1\n3825 Mürren', footer: 'Danke · Merci · ¡Gracias!', currency: 'EUR', timezone: 'Europe/Zurich' };
const receipt: ReceiptInput = {
  kind: 'receipt', store, orderNumber: 42, receiptNo: 1234, table: 'Table 7', staff: 'Zoë Ødegård', terminal: 'Counter 1', at: '2026-03-14T09:30:00Z',
  lines: [
    { quantity: 2, name: 'Crème brûlée', modifiers: ['Whipped cream'], note: 'sans noix', gross: 1300, discount: 100, comp: false },
    { quantity: 1, name: 'Jalapeño Smørrebrød with a name long enough to wrap on any paper', modifiers: ['Fries'], note: null, gross: 1800, discount: 0, comp: false },
  ],
  discountTotal: 100, total: 3000, pricesIncludeTax: true, taxes: [{ name: 'Standard 19%', percent: '19%', base: 2521, tax: 479 }],
  tenders: [{ method: 'cash', amount: 3000, tendered: 5000, change: 2000, tip: 0 }], rounding: 0, duplicate: false, drawer: true,
};
const chit: KitchenInput = {
  kind: 'kitchen', station: 'Küche', timezone: 'Europe/Zurich', orderNumber: 42, orderType: 'dine_in', table: 'Table 7', server: 'Zoë Ødegård', customer: null, sendNo: 2,
  at: '2026-03-14T09:30:00Z',
  items: [
    { marker: 'ADDITION', quantity: 2, name: 'Rösti', modifiers: ['Spiegelei'], note: 'allergy: nuts', seat: 2, course: 1 },
    { marker: 'VOID', quantity: 1, name: 'Fondue moitié-moitié', modifiers: [], note: null, seat: null, course: 2 },
  ],
};
const check: GuestCheckInput = {
  kind: 'guest-check', store, orderNumber: 42, table: 'Table 7', covers: 3, staff: 'Zoë', at: '2026-03-14T09:30:00Z', lines: receipt.lines,
  discountTotal: 100, total: 3000, pricesIncludeTax: true, taxes: receipt.taxes, paid: 1000, due: 2000,
};
const refund: RefundInput = {
  kind: 'refund', store, orderNumber: 42, receiptNo: 1240, saleReceiptNo: 1234, at: '2026-03-14T10:00:00Z', reason: 'cold', staff: 'Zoë',
  lines: [{ quantity: 1, name: 'Crème brûlée', amount: 600 }], total: 600, taxTotal: 96, duplicate: false,
};
const PAPERS = [
  { paper_width: 80, columns: 48 },
  { paper_width: 80, columns: 42 },
  { paper_width: 58, columns: 32 },
] as const;
const printer = (p: (typeof PAPERS)[number], codePage = 19) => ({ ...p, code_page: codePage, acknowledgement: true });
const decode = (b: Buffer) => new EscposDecoder(EPSON_CODE_PAGES).push(b);
const lines = (ops: DecodedOp[]) => ops.filter((o): o is Line => o.op === 'line');
/** a label and a value flush right on 48 columns */
const pair = (l: string, r: string, cols = 48) => l + ' '.repeat(cols - [...l].length - [...r].length) + r;
const hex = (b: Buffer) => b.toString('hex').replace(/(..)/g, '$1 ').trim();

describe('print layouts: receipt, kitchen chit, guest check, refund, by paper width and code page', () => {
  for (const p of PAPERS) {
    it(`fits every slip to ${p.columns} columns (${p.paper_width} mm), double-width lines to half`, () => {
      for (const input of [receipt, chit, check, refund] as JobInput[]) {
        const ls = lines(decode(renderFor(input, printer(p), { backupFrom: 'Bar printer', possibleDuplicate: true })));
        const wide = ls.filter((l) => [...l.text].length > p.columns / l.width);
        assert.deepEqual(wide, [], `${input.kind} on ${p.columns} columns`);
      }
    });
  }

  it('starts a cash receipt with the drawer pulse after ESC @ and ESC t 19: 1b 40 1b 74 13 1b 70 00 19 fa; € is d5 in PC858', () => {
    const b = renderFor(receipt, printer(PAPERS[0]), { drawer: true });
    assert.ok(hex(b).startsWith('1b 40 1b 74 13 1b 70 00 19 fa '), hex(b).slice(0, 60));
    assert.ok(b.includes(Buffer.from([0xd5, 0x31, 0x33, 0x2e, 0x30, 0x30])), '€13.00 as d5 31 33 2e 30 30');
    assert.ok(hex(b).endsWith('1b 64 04 1d 56 00'), 'feeds 4 lines, then a full cut');
    assert.ok(!renderFor(receipt, printer(PAPERS[0]), { drawer: false }).includes(Buffer.from([0x1b, 0x70])), 'no pulse unless asked');
  });

  it('prints accented text through the printer\'s code page: the same slip for PC858 and for CP1252 decodes to the same words', () => {
    const a = renderFor(receipt, printer(PAPERS[0], 19));
    const b = renderFor(receipt, printer(PAPERS[0], 16));
    assert.notDeepEqual(a, b);
    assert.ok(b.includes(Buffer.from([0x80, 0x31, 0x33])), '€ is 80 in CP1252');
    const words = (x: Buffer) => lines(decode(x)).map((l) => l.text);
    assert.deepEqual(words(a), words(b));
    for (const w of ['Café Mürren', 'Crème brûlée', 'Jalapeño Smørrebrød', '¡Gracias!', 'Zoë Ødegård']) {
      assert.ok(words(a).some((l) => l.includes(w)), `${w} in ${words(a).join(' | ')}`);
    }
  });

  it('lays out a receipt: store header, receipt and order number, lines with modifiers and notes, discounts, tax per rate, tender, change, footer, QR of the receipt number', () => {
    const ops = decode(renderFor(receipt, printer(PAPERS[0])));
    const t = lines(ops).map((l) => l.text);
    assert.deepEqual(lines(ops)[0], { op: 'line', text: 'Café Mürren', bold: true, width: 2, height: 2, align: 'center' });
    for (const want of [
      'Dorfstrasse 1', '3825 Mürren', pair('Receipt 1234', 'Order #042'), 'Table 7', pair('2 x Crème brûlée', '€13.00'), '   + Whipped cream', '   "sans noix"',
      pair('   Discount', '-€1.00'), pair('Discounts', '-€1.00'), pair('incl. Standard 19% on €25.21', '€4.79'), pair('Cash', '€50.00'),
      pair('Change', '€20.00'), 'Danke · Merci · ¡Gracias!', 'R-1234',
    ]) assert.ok(t.includes(want), `"${want}" in\n${t.join('\n')}`);
    assert.ok(t.some((l) => /^TOTAL +€30\.00$/.test(l)));
    assert.ok(t.some((l) => l.startsWith('14/03/2026, 10:30') && l.endsWith('Counter 1 · Zoë Ødegård')), 'store time (Zurich), terminal and staff');
    assert.deepEqual(ops.filter((o) => o.op === 'qr'), [{ op: 'qr', data: 'R-1234', moduleSize: 6, errorLevel: 'M' }]);
    assert.ok(!t.some((l) => /DUPLICATE|BACKUP|REPRINT/.test(l)));
  });

  it('marks a reprinted receipt DUPLICATE, a backup BACKUP FROM <printer>, an unconfirmed job POSSIBLE DUPLICATE, a reprinted chit REPRINT', () => {
    const t = (input: JobInput, marks = {}) => lines(decode(renderFor(input, printer(PAPERS[0]), marks))).map((l) => l.text);
    assert.equal(t({ ...receipt, duplicate: true }).filter((l) => l === '*** DUPLICATE ***').length, 2);
    assert.deepEqual(t(chit, { backupFrom: 'Grill' }).filter((l) => /BACKUP/.test(l)), ['*** BACKUP FROM Grill ***', '*** BACKUP FROM Grill ***']);
    assert.equal(t(chit, { possibleDuplicate: true })[0], '*** POSSIBLE DUPLICATE ***');
    assert.equal(t(chit, { reprint: true })[0], '*** REPRINT ***');
    assert.ok(!t({ ...receipt, duplicate: true }, { reprint: true }).includes('*** REPRINT ***'), 'a receipt says DUPLICATE, not REPRINT');
  });

  it('lays out a kitchen chit: station, big order number, table and type, time and send, server, courses, markers, modifiers, notes, seats', () => {
    const ops = lines(decode(renderFor(chit, printer(PAPERS[1]))));
    const t = ops.map((l) => l.text);
    assert.deepEqual(ops.find((l) => l.text === '#042'), { op: 'line', text: '#042', bold: true, width: 2, height: 2, align: 'center' });
    for (const want of ['KÜCHE', 'Table 7 · Dine-in', '-- Course 1 --', '-- Course 2 --', 'ADDITION 2 x Rösti', '   + Spiegelei', '   ! allergy: nuts', '   Seat 2', 'VOID 1 x Fondue moitié-moitié']) {
      assert.ok(t.includes(want), `"${want}" in\n${t.join('\n')}`);
    }
    assert.ok(t.some((l) => /^10:30 · send 2 +Server: Zoë Ødegård$/.test(l)));
    assert.equal(ops.find((l) => l.text === 'ADDITION 2 x Rösti')!.height, 2, 'items read from a distance');
  });

  it('lays out a guest check ("not a receipt", what is paid and left) and a refund receipt', () => {
    const g = lines(decode(renderFor(check, printer(PAPERS[2])))).map((l) => l.text);
    assert.equal(g.filter((l) => l === 'NOT A RECEIPT').length, 2);
    assert.ok(g.some((l) => /^TO PAY +€20\.00$/.test(l)));
    const r = lines(decode(renderFor(refund, printer(PAPERS[2])))).map((l) => l.text);
    assert.ok(r.includes('Refund of receipt 1234'));
    assert.ok(r.some((l) => /^REFUNDED +-€6\.00$/.test(l)));
  });
});

describe('printer settings as typed in the back office and sent to the API', () => {
  const form = { name: 'Kitchen', address: '192.168.1.50', paper_width: '80', columns: '48', code_page: '19', acknowledgement: 'on', failover_after_s: '60', station_ids: ['1', '2'] };

  it('reads the form: port 9100 by default, the simulator, checkboxes and multi-selects', () => {
    const v = PrinterForm.parse(form);
    assert.deepEqual(v, { name: 'Kitchen', address: '192.168.1.50:9100', paperWidth: 80, columns: 48, codePage: 19, acknowledgement: true, fallbackPrinterId: null, failoverAfterSeconds: 60, stationIds: [1, 2], terminalIds: [] });
    assert.equal(PrinterForm.parse({ ...form, address: 'Simulator', acknowledgement: undefined, station_ids: '3' }).address, 'simulator');
    assert.equal(PrinterForm.parse({ ...form, acknowledgement: undefined }).acknowledgement, false);
    assert.deepEqual(PrinterForm.parse({ ...form, station_ids: '3' }).stationIds, [3]);
  });

  it('refuses an address that is not host:port, columns that do not fit the paper, a code page it cannot encode', () => {
    const fields = (v: object) => (PrinterForm.safeParse(v).error?.issues ?? []).map((i) => i.path.join('.'));
    assert.deepEqual(fields({ ...form, address: 'http://printer/' }), ['address']);
    assert.deepEqual(fields({ ...form, address: 'printer:99999' }), ['address']);
    assert.deepEqual(fields({ ...form, paper_width: '58', columns: '48' }), ['columns']);
    assert.deepEqual(fields({ ...form, code_page: '99' }), ['code_page']);
    assert.deepEqual(fields({ ...form, failover_after_s: '1' }), ['failover_after_s']);
    assert.equal(PrinterJson.parse({ name: 'Bar', address: '[::1]:9100', paperWidth: 58 }).columns, 32);
    assert.equal(PrinterJson.safeParse({ name: 'Bar', address: 'x', extra: 1 }).success, false, 'strict JSON');
  });
});
