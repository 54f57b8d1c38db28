import crypto from 'node:crypto';
import type { SocketPool, WireConnection } from './wire';
import type { LineRecipe } from './store';
import { closedLoop, type LoopResult } from './load';

/**
 * Integration API sale: what a delivery platform or a web shop sends. Each client loops over
 * POST /api/v1/orders (a take-away order with its 4 lines and modifiers, one idempotency key)
 * and POST /api/v1/orders/:id/payments (cash, the order's total), with a bearer token.
 */
export const API_STEPS = ['create', 'pay'] as const;
export type ApiStep = (typeof API_STEPS)[number];
export const API_REQUESTS: Record<ApiStep, string> = {
  create: 'POST /api/v1/orders (type=takeaway, 4 lines with modifiers, idempotencyKey) → 201',
  pay: 'POST /api/v1/orders/:id/payments (cash, the total, idempotencyKey) → 201',
};

export interface ApiRun {
  loop: LoopResult;
  steps: Map<ApiStep, number[]>;
}

interface JsonReply {
  status: number;
  body: unknown;
}

async function postJson(conn: WireConnection, path: string, token: string, body: object): Promise<JsonReply> {
  const data = Buffer.from(JSON.stringify(body));
  const res = await conn.request('POST', path, { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': String(data.length), Accept: 'application/json' }, data);
  const text = res.body.toString('utf8');
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: kept as text for the error */
  }
  return { status: res.status, body: parsed };
}

/** `clients` API clients in a closed loop for the window; each iteration is one sale (2 requests). */
export async function apiRush(opts: {
  baseUrl: string;
  agent: SocketPool;
  token: string;
  recipes: LineRecipe[];
  clients: number;
  warmupMs: number;
  measureMs: number;
}): Promise<ApiRun> {
  const steps = new Map<ApiStep, number[]>(API_STEPS.map((s) => [s, []]));
  const u = new URL(opts.baseUrl);
  // one keep-alive connection per client
  const conns = Array.from({ length: opts.clients }, () => opts.agent.connection(u.hostname, Number(u.port || 80)));
  let saleNo = 0;
  const loop = await closedLoop(opts.clients, { warmupMs: opts.warmupMs, measureMs: opts.measureMs, unitsPerIteration: API_STEPS.length }, async (w, window, tick) => {
    const n = saleNo++;
    const lines = Array.from({ length: 4 }, (_, i) => opts.recipes[(n * 4 + i) % opts.recipes.length]).map((r) => ({ productId: r.productId, qty: 1, modifierIds: r.modifierIds }));
    const timed = async (step: ApiStep, path: string, body: object): Promise<JsonReply> => {
      const t0 = performance.now();
      const r = await postJson(conns[w], path, opts.token, body);
      const t1 = performance.now();
      if (window.inWindow(t1)) steps.get(step)!.push(t1 - t0);
      tick();
      if (r.status !== 201) throw new Error(`${step}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      return r;
    };
    const created = (await timed('create', '/api/v1/orders', { type: 'takeaway', lines, idempotencyKey: crypto.randomUUID() })).body as { id: number; total: number };
    // cash handed over rounds up: the amount is what the customer gives, the change comes back
    await timed('pay', `/api/v1/orders/${created.id}/payments`, { method: 'cash', amount: created.total + 1000, idempotencyKey: crypto.randomUUID() });
  });
  return { loop, steps };
}
