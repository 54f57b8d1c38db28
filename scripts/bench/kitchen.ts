import { io as ioClient, type Socket } from 'socket.io-client';
import type { Browser } from './http';
import { lineStep, openStep, type SaleState } from './sale';
import type { LineRecipe, Store } from './store';

/**
 * Kitchen push: `clients` kitchen screens connected over socket.io, each watching the station of
 * the product sent; per send, the time from sending POST /orders/:id/send to each screen's
 * `ticket:created` for that order. Measured with no other load.
 */
export interface KitchenRun {
  latencies: number[];
  /** screens that got no ticket event within the timeout, summed over sends */
  missing: number;
  sends: number;
  sendErrors: number;
  /** whether the server acknowledged `kitchen:watch` */
  watchAcked: boolean;
}

export interface KitchenRig {
  run(sends: number): Promise<KitchenRun>;
  close(): Promise<void>;
}

const EVENT_TIMEOUT_MS = 2000;

export async function kitchenRig(opts: {
  store: Store;
  baseUrl: string;
  counter: Browser;
  recipes: LineRecipe[];
  clients: number;
}): Promise<KitchenRig> {
  const line = opts.recipes.find((r) => r.stationId !== null);
  if (!line) throw new Error('no product with modifiers has a kitchen station');
  const station = line.stationId!;
  const screens = await opts.store.pair(opts.clients, { kind: 'kitchen', prefix: 'Bench kitchen' });
  const sockets: Socket[] = [];
  let current: { orderId: number; t0: number; got: Set<number>; latencies: number[]; done?: () => void } | undefined;
  let watchAcked = true;
  try {
    for (const [i, screen] of screens.entries()) {
      const socket = ioClient(opts.baseUrl, {
        transports: ['websocket'], extraHeaders: { Cookie: screen.cookieHeader() }, reconnection: false, forceNew: true,
      });
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', (err) => reject(new Error(`kitchen screen ${i + 1}: ${err.message}`)));
      });
      const acked = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), EVENT_TIMEOUT_MS);
        socket.emit('kitchen:watch', { station }, (ok: boolean) => {
          clearTimeout(timer);
          resolve(ok === true);
        });
      });
      if (!acked) watchAcked = false;
      socket.on('ticket:created', (p: { orderId?: number }) => {
        const c = current;
        if (!c || p?.orderId !== c.orderId || c.got.has(i)) return;
        c.got.add(i);
        c.latencies.push(performance.now() - c.t0);
        if (c.got.size === sockets.length) c.done?.();
      });
    }
  } catch (err) {
    for (const s of sockets) s.disconnect();
    throw err;
  }

  return {
    async run(sends) {
      const r: KitchenRun = { latencies: [], missing: 0, sends: 0, sendErrors: 0, watchAcked };
      for (let k = 0; k < sends; k++) {
        const s: SaleState = { b: opts.counter, lines: [line], record() {}, stopped: () => false };
        await openStep.run(s);
        await lineStep(0).run(s);
        const c: NonNullable<typeof current> = { orderId: s.orderId!, t0: 0, got: new Set(), latencies: [] };
        const all = new Promise<void>((resolve) => {
          c.done = resolve;
          setTimeout(resolve, EVENT_TIMEOUT_MS);
        });
        current = c;
        c.t0 = performance.now();
        const reply = await opts.counter.post(`/orders/${c.orderId}/send`, {});
        if (reply.status < 200 || reply.status >= 300) r.sendErrors++;
        await all;
        current = undefined;
        r.sends++;
        r.latencies.push(...c.latencies);
        r.missing += sockets.length - c.got.size;
      }
      return r;
    },
    async close() {
      for (const s of sockets) s.disconnect();
    },
  };
}
