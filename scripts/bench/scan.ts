import { io as ioClient, type Socket } from 'socket.io-client';
import type { Browser } from './http';
import type { Store } from './store';

/**
 * Scan to screen (issue 21): a scanner of the store server bound to a counter terminal whose page
 * watches its open order over socket.io; per scan, the time from sending the scan to that
 * terminal's `order:updated` for the order. The scanner is the simulator, set up in the back
 * office as an owner would (Devices → scanners: add one, kind simulator, bound to the terminal),
 * and each scan is typed into it by the back office's "scan" form: HID key reports through the
 * same decoder a USB scanner's reports go through. Measured with no other load.
 */
export interface ScanRun {
  latencies: number[];
  /** scans whose line did not reach the terminal within the timeout */
  missing: number;
  /** scans the server refused (scan:refused) or whose form was not answered 2xx/3xx */
  errors: number;
  firstError?: string;
}

/** a demo product with no options (server/demo/data.ts): a scan adds it as it is */
export const SCAN_CODE = '4006040000013';
const EVENT_TIMEOUT_MS = 2000;

export async function measureScans(opts: { store: Store; baseUrl: string; counter: Browser; counterName: string; scans: number }): Promise<ScanRun> {
  const { owner } = opts.store;
  const section = await owner.get('/backoffice/scanners', { keepBody: true });
  if (section.status !== 200) throw new Error(`GET /backoffice/scanners: ${section.status} (a server without scanners)`);
  const terminal = new RegExp(`<option value="(\\d+)"[^>]*>${opts.counterName}</option>`).exec(section.text)?.[1];
  if (!terminal) throw new Error(`the scanners section offers no terminal named ${opts.counterName}`);
  const added = await owner.post('/backoffice/scanners', { name: 'Bench scanner', kind: 'simulated', terminal_id: terminal }, { keepBody: true });
  const scanner = /<tr data-scanner-id="(\d+)">\s*<td>Bench scanner<\/td>/.exec(added.text)?.[1];
  if (added.status !== 200 || !scanner) throw new Error(`adding a simulated scanner: ${added.status} ${added.text.replace(/\s+/g, ' ').slice(0, 300)}`);

  const socket: Socket = ioClient(opts.baseUrl, { transports: ['websocket'], extraHeaders: { Cookie: opts.counter.cookieHeader() }, reconnection: false, forceNew: true });
  const r: ScanRun = { latencies: [], missing: 0, errors: 0 };
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(new Error(`the terminal's socket: ${err.message}`)));
    });
    let waiting: { orderId: number | null; done: (ok: boolean) => void } | undefined;
    socket.on('order:updated', (p: { orderId: number }) => {
      if (waiting && p.orderId === waiting.orderId) waiting.done(true);
    });
    socket.on('scan:refused', (p: { message: string }) => {
      r.errors++;
      r.firstError ??= p.message;
      waiting?.done(false);
    });
    const scan = () => owner.post(`/backoffice/scanners/${scanner}/test-scan`, { code: SCAN_CODE }, { htmx: false });
    // the first scan starts the sale on the idle terminal; its page then shows and watches it
    const opened = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the first scan opened no order on the terminal')), EVENT_TIMEOUT_MS * 5);
      socket.once('scan:opened', (p: { orderId: number }) => {
        clearTimeout(timer);
        resolve(p.orderId);
      });
    });
    await scan();
    const orderId = await opened;
    const watched = await new Promise<boolean>((resolve) => socket.emit('order:watch', { orderId }, (ok: boolean) => resolve(ok)));
    if (!watched) throw new Error('the terminal may not watch its order (is its staff logged in?)');
    for (let k = 0; k < opts.scans; k++) {
      const reached = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), EVENT_TIMEOUT_MS);
        waiting = { orderId, done: (ok) => { clearTimeout(timer); resolve(ok); } };
      });
      const t0 = performance.now();
      const reply = await scan();
      if (reply.status >= 400) {
        r.errors++;
        r.firstError ??= `test scan: ${reply.status}`;
      }
      const ok = await reached;
      if (ok) r.latencies.push(performance.now() - t0);
      else r.missing++;
      waiting = undefined;
    }
  } finally {
    socket.disconnect();
  }
  return r;
}
