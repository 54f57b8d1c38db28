import crypto from 'node:crypto';
import type { Browser, Reply } from './http';
import type { LineRecipe } from './store';

/**
 * One counter sale, as the requests a terminal's htmx sends, one step per tap: open, 4 lines with
 * modifiers, send to the kitchen, the pay dialog, a cash tender, the receipt. With `fullBrowser`
 * also what the browser loads around the taps: the order page and its product grid after the
 * open's HX-Redirect, and the options dialog before each line. The same steps run paced (think
 * time between taps), saturated (none) and, captured, in the SQL floor.
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
  /** the tap kind in the table */
  name: string;
  /** the requests, for the report */
  requests: string;
  /** how many requests it sends */
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

/** The options dialog of line `index`'s product (the tap on the product). */
export function optionsStep(index: number): Step {
  return {
    name: 'options',
    requests: `GET /orders/:id/products/:productId/options (the options dialog), ×${LINES_PER_SALE}`,
    perSale: 1,
    async run(s) {
      const l = s.lines[index % s.lines.length];
      await call(s, 'options', is(200), () => s.b.get(`/orders/${orderId(s)}/products/${l.productId}/options`));
    },
  };
}

/** Line `index` of the sale (the tap on "Add" in the options dialog). */
export function lineStep(index: number): Step {
  return {
    name: 'line',
    requests: `POST /orders/:id/lines (product_id, quantity, modifier_ids…), ×${LINES_PER_SALE}`,
    perSale: 1,
    async run(s) {
      const l = s.lines[index % s.lines.length];
      await call(s, 'line', is(200), () =>
        s.b.post(`/orders/${orderId(s)}/lines`, { product_id: String(l.productId), quantity: '1', modifier_ids: l.modifierIds.map(String) }),
      );
    },
  };
}

export const sendStep: Step = {
  name: 'send',
  requests: 'POST /orders/:id/send',
  perSale: 1,
  async run(s) {
    await call(s, 'send', is2xx, () => s.b.post(`/orders/${orderId(s)}/send`, {}));
  },
};

/** A GET of one of the order's pages or dialogs (`/orders/:id/<page>`), answered 200. */
function orderPageStep(name: string, page: string, requests: string, opts: { htmx?: boolean } = {}): Step {
  return {
    name,
    requests,
    perSale: 1,
    async run(s) {
      await call(s, name, is(200), () => s.b.get(`/orders/${orderId(s)}/${page}`, opts));
    },
  };
}

export const payDialogStep = orderPageStep('pay', 'pay', 'GET /orders/:id/pay (the pay dialog)');

export const tenderStep: Step = {
  name: 'tender',
  requests: `POST /orders/:id/payments (tendered=${TENDERED}, idempotency_key)`,
  perSale: 1,
  async run(s) {
    await call(s, 'tender', is(200), () => s.b.post(`/orders/${orderId(s)}/payments`, { tendered: TENDERED, idempotency_key: crypto.randomUUID() }));
  },
};

/** The receipt page (what Print opens); 200 only once the sale is closed, so it also proves the tender closed it. */
export const receiptStep = orderPageStep('receipt', 'receipt', 'GET /orders/:id/receipt (page)', { htmx: false });

export function saleSteps(opts: { fullBrowser: boolean }): Step[] {
  return [
    openStep,
    ...(opts.fullBrowser ? [pageStep] : []),
    ...Array.from({ length: LINES_PER_SALE }, (_, i) => (opts.fullBrowser ? [optionsStep(i), lineStep(i)] : [lineStep(i)])).flat(),
    sendStep,
    payDialogStep,
    tenderStep,
    receiptStep,
  ];
}

export const requestsPerSale = (steps: Step[]) => steps.reduce((n, s) => n + s.perSale, 0);

/** The steps once each, in order ("line" once for the four lines). */
export function uniqueSteps(steps: Step[]): Step[] {
  return steps.filter((s, i) => steps.findIndex((x) => x.name === s.name) === i);
}

/** "open → line ×4 → send → …" */
export function stepSummary(steps: Step[]): string {
  return uniqueSteps(steps)
    .map((s) => {
      const n = steps.filter((x) => x.name === s.name).length;
      return n > 1 ? `${s.name} ×${n}` : s.name;
    })
    .join(' → ');
}

/** The lines of sale number `n`: consecutive recipes, so sales vary but each has LINES_PER_SALE distinct products. */
export function linesFor(recipes: LineRecipe[], n: number): LineRecipe[] {
  return Array.from({ length: LINES_PER_SALE }, (_, i) => recipes[(n * LINES_PER_SALE + i) % recipes.length]);
}

/** Runs one sale through `steps`; throws StepError or Stopped. */
export async function runSale(steps: Step[], s: SaleState): Promise<void> {
  for (const step of steps) await step.run(s);
}

export interface Sampler {
  begin(): void;
  sample(): void;
  end(): void;
}

/** Starts the sampler when the window opens and samples every 250 ms until stopped. */
function sampleWindow(sampler: Sampler | undefined, warmupMs: number): () => void {
  let every: NodeJS.Timeout | undefined;
  const start = setTimeout(() => {
    sampler?.begin();
    every = setInterval(() => sampler?.sample(), 250);
  }, warmupMs);
  return () => {
    clearTimeout(start);
    if (every) clearInterval(every);
    sampler?.end();
  };
}

function errorKey(err: unknown): string {
  return err instanceof StepError ? `${err.step} ${err.status || 'network'}` : `sale ${(err as Error).message}`;
}

// ---- paced: terminals at a human pace -------------------------------------------------------

export interface PacedResult {
  terminals: number;
  seconds: number;
  /** latencies (ms) of the requests sent inside the window, per tap kind */
  taps: Map<string, number[]>;
  /** [ms after the window opened that it was sent, latency] of every request in the window */
  timeline: Array<[number, number]>;
  /** sales completed inside the window */
  completed: number;
  /** sales each terminal completed over the whole run, warm-up included */
  completedPerTerminal: number[];
  errors: Map<string, number>;
  warmupErrors: number;
  firstError?: string;
  /** how late the load generator sent taps against their plan when it was not waiting for an answer (ms) */
  lateMs: number[];
}

/** A small seeded generator (mulberry32): the same schedule for every server compared. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** the share of a sale's period its taps are spread over; the rest is the wait for the next customer */
const TAPPING_SHARE = 0.75;
/** a person reads the screen before the next tap, however late the plan */
const MIN_THINK_MS = 150;

/**
 * N terminals, each starting a sale every `saleMs` (a brisk human pace), its taps spread over
 * three quarters of that time with random think time between them (0.5–1.5 × the mean gap), the
 * terminals' first sales staggered evenly over one period. Each tap is sent at its planned time,
 * or when the answer to the previous one has come (plus a moment to read it) if that is later.
 * The schedule is seeded: every server compared gets the same taps at the same moments.
 */
export async function paced(
  browsers: Browser[],
  recipes: LineRecipe[],
  steps: Step[],
  opts: { saleMs: number; warmupMs: number; measureMs: number; sampler?: Sampler },
): Promise<PacedResult> {
  const n = browsers.length;
  const t0 = performance.now() + 50;
  const windowStart = t0 + opts.warmupMs;
  const windowEnd = windowStart + opts.measureMs;
  const inWindow = (t: number) => t >= windowStart && t < windowEnd;
  const r: PacedResult = {
    terminals: n, seconds: opts.measureMs / 1000, taps: new Map(), timeline: [], completed: 0,
    completedPerTerminal: new Array(n).fill(0), errors: new Map(), warmupErrors: 0, lateMs: [],
  };
  const record = (step: string, reply: Reply) => {
    const sentAt = performance.now() - reply.ms;
    if (!inWindow(sentAt)) return;
    let list = r.taps.get(step);
    if (!list) r.taps.set(step, (list = []));
    list.push(reply.ms);
    r.timeline.push([sentAt - windowStart, reply.ms]);
  };
  const stopped = () => performance.now() >= windowEnd;
  const sleepUntil = (t: number) => new Promise<void>((res) => setTimeout(res, Math.max(0, t - performance.now())));
  const meanGap = (TAPPING_SHARE * opts.saleMs) / Math.max(1, steps.length - 1);
  let saleNo = 0;

  const terminal = async (i: number) => {
    const rand = seeded(i + 1);
    let start = t0 + ((i + rand()) * opts.saleMs) / n;
    while (start < windowEnd) {
      const s: SaleState = { b: browsers[i], lines: linesFor(recipes, saleNo++), record, stopped };
      let plan = start;
      let free = 0; // when the previous answer came, plus a moment to read it
      try {
        for (const [j, step] of steps.entries()) {
          if (j > 0) plan += (0.5 + rand()) * meanGap;
          const at = Math.max(plan, free);
          await sleepUntil(at);
          if (performance.now() >= windowEnd) throw new Stopped();
          if (at === plan && inWindow(performance.now())) r.lateMs.push(performance.now() - plan);
          await step.run(s);
          free = performance.now() + MIN_THINK_MS;
        }
        const done = performance.now();
        r.completedPerTerminal[i]++;
        if (inWindow(done)) r.completed++;
      } catch (err) {
        if (err instanceof Stopped) break;
        const now = performance.now();
        if (inWindow(now)) r.errors.set(errorKey(err), (r.errors.get(errorKey(err)) ?? 0) + 1);
        else if (now < windowStart) r.warmupErrors++;
        r.firstError ??= (err as Error).message;
      }
      start = Math.max(start + opts.saleMs, free);
    }
  };
  const stopSampling = sampleWindow(opts.sampler, windowStart - performance.now());
  try {
    await Promise.all(browsers.map((_, i) => terminal(i)));
  } finally {
    stopSampling();
  }
  return r;
}

// ---- saturated: terminals with no think time ------------------------------------------------

export interface SaturatedResult {
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
  /** sales completed in each fifth of the window, per second: the spread within the run */
  slices: number[];
  /** latencies (ms) of the requests started in the measured window, per step */
  steps: Map<string, number[]>;
  /** failures in the measured window, "step status" → count */
  errors: Map<string, number>;
  warmupErrors: number;
  firstError?: string;
}

/**
 * N terminals, each looping sales back to back (no think time) for warm-up + measured window.
 * Before the clock starts, each terminal is taken untimed to a random step of its first sale, so
 * the terminals are spread over the sale as in a steady state instead of all opening at once.
 * Sales per second = sales completed inside the window / window length.
 */
export async function saturate(
  browsers: Browser[],
  recipes: LineRecipe[],
  steps: Step[],
  opts: { warmupMs: number; measureMs: number; sampler?: Sampler },
): Promise<SaturatedResult> {
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

  const windowStart = performance.now() + opts.warmupMs;
  const windowEnd = windowStart + opts.measureMs;
  const inWindow = (t: number) => t >= windowStart && t < windowEnd;
  const r: SaturatedResult = {
    terminals: browsers.length, seconds: opts.measureMs / 1000, completed: 0, salesPerSec: 0, method: 'completed', requests: 0, salesFromRequests: 0,
    slices: [0, 0, 0, 0, 0], steps: new Map(), errors: new Map(), warmupErrors: 0,
  };
  const record = (step: string, reply: Reply) => {
    const sentAt = performance.now() - reply.ms;
    if (!inWindow(sentAt)) return;
    r.requests++;
    let list = r.steps.get(step);
    if (!list) r.steps.set(step, (list = []));
    list.push(reply.ms);
  };
  const stopped = () => performance.now() >= windowEnd;

  const terminal = async (b: Browser) => {
    let resume = first.get(b);
    while (performance.now() < windowEnd) {
      const s = resume?.s ?? newSale(b);
      const from = resume?.from ?? 0;
      resume = undefined;
      s.record = record;
      s.stopped = stopped;
      try {
        await runSale(steps.slice(from), s);
        const done = performance.now();
        if (inWindow(done)) {
          r.completed++;
          r.slices[Math.min(4, Math.floor(((done - windowStart) / opts.measureMs) * 5))]++;
        }
      } catch (err) {
        if (err instanceof Stopped) break;
        const now = performance.now();
        if (inWindow(now)) r.errors.set(errorKey(err), (r.errors.get(errorKey(err)) ?? 0) + 1);
        else if (now < windowStart) r.warmupErrors++;
        r.firstError ??= (err as Error).message;
        if (err instanceof StepError && err.status === 0) await new Promise((res) => setTimeout(res, 20));
      }
    }
  };
  const stopSampling = sampleWindow(opts.sampler, opts.warmupMs);
  try {
    await Promise.all(browsers.map(terminal));
  } finally {
    stopSampling();
  }
  const seconds = opts.measureMs / 1000;
  r.slices = r.slices.map((c) => c / (seconds / 5));
  const errors = [...r.errors.values()].reduce((a, b) => a + b, 0);
  r.salesFromRequests = Math.max(0, r.requests - errors) / requestsPerSale(steps) / seconds;
  // Little's law: a sale lasts terminals / throughput; when that is long against the window, few
  // sales both start and end in it, and counting completions says more about the window than the server
  if (browsers.length / Math.max(r.salesFromRequests, 1e-9) > seconds / 3) {
    r.method = 'requests';
    r.salesPerSec = r.salesFromRequests;
  } else {
    r.salesPerSec = r.completed / seconds;
  }
  return r;
}
