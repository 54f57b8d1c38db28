import crypto from 'node:crypto';
import type { Browser, Reply } from './http';
import type { LineRecipe } from './store';

/**
 * One counter sale, as the requests a browser's htmx sends: open, 4 lines with modifiers, send to
 * the kitchen (when the server has it), the pay dialog, a cash tender, the receipt. Each step is
 * one entry of `saleSteps()`; a new step is one more entry.
 */
export interface SaleState {
  b: Browser;
  /** the lines of this sale */
  lines: LineRecipe[];
  orderId?: number;
  /** called for every request with the step it belongs to and its latency */
  record(step: string, reply: Reply): void;
  /** true once the run is over: the sale stops at the next request */
  stopped(): boolean;
}

export interface Step {
  /** the name in the table */
  name: string;
  /** the requests, for the report */
  requests: string;
  /** how many requests it sends per sale */
  perSale: number;
  run(s: SaleState): Promise<void>;
}

export class StepError extends Error {
  constructor(readonly step: string, readonly status: number, detail: string) {
    super(`${step}: ${status} ${detail}`);
  }
}

export class Stopped extends Error {}

export const LINES_PER_SALE = 4;
export const OPTIONS_REQUEST = '/orders/:id/products/:productId/options (the options dialog)';
export const TENDERED = '500.00';

async function call(s: SaleState, step: string, expect: (status: number) => boolean, send: () => Promise<Reply>): Promise<Reply> {
  if (s.stopped()) throw new Stopped();
  let r: Reply;
  try {
    r = await send();
  } catch (err) {
    throw new StepError(step, 0, (err as Error).message);
  }
  s.record(step, r);
  if (!expect(r.status)) throw new StepError(step, r.status, r.text.slice(0, 200));
  return r;
}

const is = (code: number) => (status: number) => status === code;
const is2xx = (status: number) => status >= 200 && status < 300;
const orderId = (s: SaleState) => {
  if (!s.orderId) throw new StepError('open', 0, 'no order id');
  return s.orderId;
};

/** The order an answer's HX-Redirect goes to (htmx follows it to the order page). */
function redirectedOrder(step: string, r: Reply): number {
  const m = /^\/orders\/(\d+)$/.exec(String(r.headers['hx-redirect'] ?? ''));
  if (!m) throw new StepError(step, r.status, `no HX-Redirect to the order (got ${String(r.headers['hx-redirect'])})`);
  return Number(m[1]);
}

export const openStep: Step = {
  name: 'open',
  requests: 'POST /orders (type=counter) → 204 HX-Redirect',
  perSale: 1,
  async run(s) {
    s.orderId = redirectedOrder('open', await call(s, 'open', is(204), () => s.b.post('/orders', { type: 'counter' })));
  },
};

/** What the browser does after HX-Redirect: the order page, then the product grid it loads. */
export const pageStep: Step = {
  name: 'page',
  requests: 'GET /orders/:id (page) + GET /terminal/products?order',
  perSale: 2,
  async run(s) {
    const id = orderId(s);
    await call(s, 'page', is(200), () => s.b.get(`/orders/${id}`, { htmx: false }));
    await call(s, 'page', is(200), () => s.b.get(`/terminal/products?order=${id}`));
  },
};

/** Line `index` of the sale (its own step, so a terminal can start a run between two lines). */
export function lineStep(index: number, opts: { withOptionsDialog: boolean }): Step {
  return {
    name: 'line',
    requests: `POST /orders/:id/lines (product_id, quantity, modifier_ids…), ×${LINES_PER_SALE}${opts.withOptionsDialog ? `, each after GET ${OPTIONS_REQUEST}` : ''}`,
    perSale: opts.withOptionsDialog ? 2 : 1,
    async run(s) {
      const id = orderId(s);
      const l = s.lines[index % s.lines.length];
      if (opts.withOptionsDialog) await call(s, 'options', is(200), () => s.b.get(`/orders/${id}/products/${l.productId}/options`));
      await call(s, 'line', is(200), () =>
        s.b.post(`/orders/${id}/lines`, { product_id: String(l.productId), quantity: '1', modifier_ids: l.modifierIds.map(String) }),
      );
    },
  };
}

export const sendStep: Step = {
  name: 'send',
  requests: 'POST /orders/:id/send',
  perSale: 1,
  async run(s) {
    const id = orderId(s);
    await call(s, 'send', is2xx, () => s.b.post(`/orders/${id}/send`, {}));
  },
};

/** A GET of one of the order's pages or dialogs (`/orders/:id/<page>`), answered 200. */
function orderPageStep(name: string, page: string, requests: string, opts: { htmx?: boolean } = {}): Step {
  return {
    name,
    requests,
    perSale: 1,
    async run(s) {
      const id = orderId(s);
      await call(s, name, is(200), () => s.b.get(`/orders/${id}/${page}`, opts));
    },
  };
}

export const payDialogStep = orderPageStep('pay', 'pay', 'GET /orders/:id/pay (the pay dialog)');

export const tenderStep: Step = {
  name: 'tender',
  requests: `POST /orders/:id/payments (tendered=${TENDERED}, idempotency_key)`,
  perSale: 1,
  async run(s) {
    const id = orderId(s);
    await call(s, 'tender', is(200), () => s.b.post(`/orders/${id}/payments`, { tendered: TENDERED, idempotency_key: crypto.randomUUID() }));
  },
};

/** The receipt page (what Print opens); 200 only once the sale is closed, so it also proves the tender closed it. */
export const receiptStep = orderPageStep('receipt', 'receipt', 'GET /orders/:id/receipt (page)', { htmx: false });

export function saleSteps(opts: { send: boolean; fullBrowser: boolean }): Step[] {
  return [
    openStep,
    ...(opts.fullBrowser ? [pageStep] : []),
    ...Array.from({ length: LINES_PER_SALE }, (_, i) => lineStep(i, { withOptionsDialog: opts.fullBrowser })),
    ...(opts.send ? [sendStep] : []),
    payDialogStep,
    tenderStep,
    receiptStep,
  ];
}

/** The lines of sale number `n`: consecutive recipes, so sales vary but each has LINES_PER_SALE distinct products. */
export function linesFor(recipes: LineRecipe[], n: number): LineRecipe[] {
  return Array.from({ length: LINES_PER_SALE }, (_, i) => recipes[(n * LINES_PER_SALE + i) % recipes.length]);
}

/**
 * A table's check, as a waiter's phone sends it (`tableOf`: the table each browser seats, one
 * each): the floor plan, the table seated, the lines, the send, the check, the pay dialog, a cash
 * tender (which frees the table for the next loop) and the receipt.
 */
export function tableSteps(tableOf: (b: Browser) => number, opts: { send: boolean }): Step[] {
  const floorStep: Step = {
    name: 'floor',
    requests: 'GET /floor/plan (the floor plan, every table\'s state)',
    perSale: 1,
    async run(s) {
      await call(s, 'floor', is(200), () => s.b.get('/floor/plan'));
    },
  };
  const seatStep: Step = {
    name: 'seat',
    requests: 'POST /tables/:id/open (covers=2) → 204 HX-Redirect',
    perSale: 1,
    async run(s) {
      s.orderId = redirectedOrder('seat', await call(s, 'seat', is(204), () => s.b.post(`/tables/${tableOf(s.b)}/open`, { covers: '2' })));
    },
  };
  const checkStep = orderPageStep('check', 'check', 'GET /orders/:id/check (the check: split, transfer, merge)');
  return [
    floorStep,
    seatStep,
    ...Array.from({ length: LINES_PER_SALE }, (_, i) => lineStep(i, { withOptionsDialog: false })),
    ...(opts.send ? [sendStep] : []),
    checkStep,
    payDialogStep,
    tenderStep,
    receiptStep,
  ];
}

/** Runs one sale through `steps`; throws StepError or Stopped. */
export async function runSale(steps: Step[], s: SaleState): Promise<void> {
  for (const step of steps) await step.run(s);
}

/**
 * Whether the server can send an order to the kitchen: one order with one line, then
 * POST /orders/:id/send. 404 means the route does not exist yet.
 */
export async function probeSend(b: Browser, line: LineRecipe): Promise<{ status: number; text: string }> {
  const s: SaleState = { b, lines: [line], record() {}, stopped: () => false };
  await openStep.run(s);
  await lineStep(0, { withOptionsDialog: false }).run(s);
  const r = await b.post(`/orders/${s.orderId}/send`, {}, { keepBody: true });
  return { status: r.status, text: r.text.slice(0, 200) };
}

// ---- the rush ----------------------------------------------------------------------------

export interface RushResult {
  terminals: number;
  seconds: number;
  /** sales completed inside the window */
  completed: number;
  /** the figure: completed / window, or from requests when a sale takes longer than a third of the window */
  salesPerSec: number;
  method: 'completed' | 'requests';
  /** answered requests sent inside the window (any status) */
  requests: number;
  /** requests per sale ÷ window: sale-equivalents per second */
  salesFromRequests: number;
  /** latencies (ms) of the requests started in the measured window, per step */
  steps: Map<string, number[]>;
  /** whole sales (not a terminal's first, dispersed one) completed inside the window, first request to last */
  saleMs: number[];
  /** failures in the measured window, "step status" → count */
  errors: Map<string, number>;
  /** failures during warm-up */
  warmupErrors: number;
  firstError?: string;
  /** with opts.trace: every request sent inside the window, in the order answered */
  trace?: TracedRequest[];
}

export interface TracedRequest {
  /** when it was sent, in ms after the window opened */
  sentMs: number;
  /** its latency */
  ms: number;
  step: string;
}

export interface Sampler {
  begin(): void;
  sample(): void;
  end(): void;
}

/**
 * N terminals, each looping sales back to back (no think time) for warm-up + measured window.
 * Before the clock starts, each terminal is taken untimed to a random step of its first sale, so
 * the terminals are spread over the sale as in a steady state instead of all opening at once
 * (with 200 terminals a sale can outlast the whole run, and then only the first steps would be seen).
 * Sales per second = sales completed inside the window / window length.
 */
export async function rush(
  browsers: Browser[],
  recipes: LineRecipe[],
  steps: Step[],
  opts: { warmupMs: number; measureMs: number; sampler?: Sampler; sampleEveryMs?: number; trace?: boolean },
): Promise<RushResult> {
  let saleNo = 0;
  const newSale = (b: Browser): SaleState => ({ b, lines: linesFor(recipes, saleNo++), record() {}, stopped: () => false });
  const first = new Map<Browser, { s: SaleState; from: number }>();
  let next = 0;
  const disperse = async () => {
    for (let i = next++; i < browsers.length; i = next++) {
      const b = browsers[i];
      const from = Math.floor(Math.random() * steps.length);
      const s = newSale(b);
      await runSale(steps.slice(0, from), s);
      first.set(b, { s, from });
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, browsers.length) }, disperse));

  const t0 = performance.now();
  const windowStart = t0 + opts.warmupMs;
  const windowEnd = windowStart + opts.measureMs;
  const result: RushResult = {
    terminals: browsers.length, seconds: opts.measureMs / 1000, completed: 0, salesPerSec: 0, method: 'completed', requests: 0, salesFromRequests: 0,
    steps: new Map(), saleMs: [], errors: new Map(), warmupErrors: 0, trace: opts.trace ? [] : undefined,
  };
  let sampling: NodeJS.Timeout | undefined;
  const startSampling = setTimeout(() => {
    opts.sampler?.begin();
    sampling = setInterval(() => opts.sampler?.sample(), opts.sampleEveryMs ?? 250);
  }, opts.warmupMs);
  const inWindow = (t: number) => t >= windowStart && t < windowEnd;

  const record = (step: string, reply: Reply) => {
    const sentAt = performance.now() - reply.ms;
    if (!inWindow(sentAt)) return;
    result.requests++;
    let list = result.steps.get(step);
    if (!list) result.steps.set(step, (list = []));
    list.push(reply.ms);
    result.trace?.push({ sentMs: sentAt - windowStart, ms: reply.ms, step });
  };
  const stopped = () => performance.now() >= windowEnd;

  const terminal = async (b: Browser) => {
    let resume = first.get(b);
    while (performance.now() < windowEnd) {
      const started = performance.now();
      const s = resume?.s ?? newSale(b);
      const from = resume?.from ?? 0;
      resume = undefined;
      s.record = record;
      s.stopped = stopped;
      try {
        await runSale(steps.slice(from), s);
        const done = performance.now();
        if (inWindow(done)) {
          result.completed++;
          if (from === 0) result.saleMs.push(done - started);
        }
      } catch (err) {
        if (err instanceof Stopped) break;
        const now = performance.now();
        const key = err instanceof StepError ? `${err.step} ${err.status || 'network'}` : `sale ${(err as Error).message}`;
        if (inWindow(now)) {
          result.errors.set(key, (result.errors.get(key) ?? 0) + 1);
          result.firstError ??= (err as Error).message;
        } else if (now < windowStart) {
          result.warmupErrors++;
          result.firstError ??= (err as Error).message;
        }
        if (err instanceof StepError && err.status === 0) await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  try {
    await Promise.all(browsers.map(terminal));
  } finally {
    clearTimeout(startSampling);
    if (sampling) clearInterval(sampling);
  }
  opts.sampler?.end();
  const seconds = opts.measureMs / 1000;
  const errors = [...result.errors.values()].reduce((a, b) => a + b, 0);
  result.salesFromRequests = Math.max(0, result.requests - errors) / steps.reduce((n, s) => n + s.perSale, 0) / seconds;
  // Little's law: a sale lasts terminals / throughput; when that is long against the window, few
  // sales both start and end in it, and counting completions says more about the window than the server
  const saleSeconds = browsers.length / Math.max(result.salesFromRequests, 1e-9);
  if (saleSeconds > seconds / 3) {
    result.method = 'requests';
    result.salesPerSec = result.salesFromRequests;
  } else {
    result.salesPerSec = result.completed / seconds;
  }
  return result;
}
