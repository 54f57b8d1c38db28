import crypto from 'node:crypto';
import { FakeEscposPrinter } from '../../test/fakes/escpos-printer';
import type { Browser } from './http';
import type { LineRecipe, Store } from './store';

/**
 * Printing (issue 21), set up in the back office as an owner would (Devices → printers), against
 * the fake ESC/POS printer on loopback, which parses every byte and answers GS r 1:
 *
 * - jobs per second through the print queue: `jobs` test pages are queued on a printer that is
 *   off (nothing listens at its address), then its queue is moved by hand to the fake printer;
 *   timed from the move to the printer's answer to the last job's GS r 1: the queue's worker,
 *   DLE EOT before each job, one connection per job, the acknowledgement;
 * - a sale's taps with the terminal's receipt printer off: `sales` sales with no receipt printer,
 *   then as many with the printer that is off as the terminal's receipt printer (each sale queues
 *   a receipt and a drawer pulse that cannot print). The taps must not grow: printing is after
 *   the commit, never in the tap.
 */
export interface PrintRun {
  jobs: number;
  /** from the move to the last acknowledgement */
  drainMs: number;
  /** jobs the fake printer did not acknowledge within the timeout */
  missing: number;
  /** each sale's taps (open, line, pay), per setting */
  tapsNoPrinter: number[];
  tapsPrinterOff: number[];
  payNoPrinter: number[];
  payPrinterOff: number[];
  errors: number;
  firstError?: string;
}

const DRAIN_TIMEOUT_MS = 120_000;

export async function measurePrinting(opts: { store: Store; counter: Browser; counterName: string; recipes: LineRecipe[]; jobs: number; sales: number }): Promise<PrintRun> {
  const { owner } = opts.store;
  const fake = new FakeEscposPrinter();
  const off = new FakeEscposPrinter();
  const r: PrintRun = { jobs: opts.jobs, drainMs: NaN, missing: 0, tapsNoPrinter: [], tapsPrinterOff: [], payNoPrinter: [], payPrinterOff: [], errors: 0 };
  const fail = (what: string, status: number, text = '') => {
    throw new Error(`${what}: ${status} ${text.replace(/\s+/g, ' ').slice(0, 300)}`);
  };
  try {
    const onAddress = await fake.start();
    const offAddress = await off.start();
    await off.stop(); // a printer switched off: nothing listens there
    const add = async (name: string, address: string) => {
      const made = await owner.post('/backoffice/devices/printers', {
        name, address, paper_width: '80', columns: '48', code_page: '19', acknowledgement: 'on', failover_after_s: '3600',
      }, { htmx: false });
      if (made.status !== 303) fail(`adding the printer ${name}`, made.status);
    };
    await add('Bench printer off', offAddress);
    await add('Bench printer', onAddress);
    const page = await owner.get('/backoffice/devices', { htmx: false, keepBody: true });
    const idOf = (name: string) => new RegExp(`id="printer-(\\d+)" data-printer-id="\\d+">\\s*<header class="printer-head">\\s*<h3>${name}</h3>`).exec(page.text)?.[1];
    const offId = idOf('Bench printer off');
    const onId = idOf('Bench printer');
    const terminalId = new RegExp(`data-terminal-id="(\\d+)"><td>${opts.counterName}<`).exec(page.text)?.[1];
    if (!offId || !onId || !terminalId) fail('the devices page does not show the printers and the terminal', page.status);

    // -- jobs per second: queued on the printer that is off, moved to the one that answers
    for (let i = 0; i < opts.jobs; i++) {
      const q = await owner.post(`/backoffice/devices/printers/${offId}/test`);
      if (q.status !== 200) fail('queuing a test page', q.status);
    }
    const started = process.hrtime.bigint();
    const moved = await owner.post(`/backoffice/devices/printers/${offId}/move`, { to_printer_id: onId! });
    if (moved.status !== 204) fail('moving the queue', moved.status);
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (fake.acknowledged < opts.jobs && Date.now() < deadline) await new Promise((res) => setTimeout(res, 2));
    r.drainMs = Number(process.hrtime.bigint() - started) / 1e6;
    r.missing = opts.jobs - fake.acknowledged;
    if (fake.errors.length) fail('the fake printer refused bytes', 0, fake.errors[0]);

    // -- a sale's taps, without a receipt printer, then with one that is off
    const sale = async (taps: number[], pays: number[]) => {
      const recipe = opts.recipes[crypto.randomInt(opts.recipes.length)]!;
      const opened = await opts.counter.post('/orders', { type: 'counter' });
      const orderId = /(\d+)$/.exec(String(opened.headers['hx-redirect'] ?? ''))?.[1];
      if (!orderId) {
        r.errors++;
        r.firstError ??= `open: ${opened.status}`;
        return;
      }
      const line = await opts.counter.post(`/orders/${orderId}/lines`, { product_id: String(recipe.productId), modifier_ids: recipe.modifierIds.map(String) });
      const pay = await opts.counter.post(`/orders/${orderId}/payments`, { tendered: '500.00', idempotency_key: crypto.randomUUID() });
      if (line.status !== 200 || pay.status !== 200) {
        r.errors++;
        r.firstError ??= `line ${line.status}, pay ${pay.status}`;
        return;
      }
      taps.push(opened.ms, line.ms, pay.ms);
      pays.push(pay.ms);
    };
    for (let i = 0; i < opts.sales; i++) await sale(r.tapsNoPrinter, r.payNoPrinter);
    const set = await owner.post(`/backoffice/terminals/${terminalId}/defaults`, { station_id: '', receipt_printer_id: offId! });
    if (set.status !== 204) fail('giving the terminal its receipt printer', set.status);
    for (let i = 0; i < opts.sales; i++) await sale(r.tapsPrinterOff, r.payPrinterOff);
    // the printer stays off: put the terminal back as it was for whatever runs next
    await owner.post(`/backoffice/terminals/${terminalId}/defaults`, { station_id: '', receipt_printer_id: '' });
    return r;
  } finally {
    await fake.stop().catch(() => undefined);
  }
}
