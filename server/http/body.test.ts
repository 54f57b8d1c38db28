import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createLogger } from '../logger';
import { bodyParser, MAX_JSON_DEPTH, nestingOver } from './body';
import { errorHandler } from './errors';
import { requestLog } from './request-log';

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('nestingOver', () => {
  it('counts arrays and objects inside one another, up to and past the limit', () => {
    assert.equal(nestingOver(deep(32), 32), false);
    assert.equal(nestingOver(deep(33), 32), true);
    assert.equal(nestingOver('{"a":{"b":[1,{"c":2}]}}', 4), false);
    assert.equal(nestingOver('{"a":{"b":[1,{"c":2}]}}', 3), true);
    assert.equal(nestingOver('[[1],[2],[3],[4]]', 2), false, 'siblings do not add up');
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    assert.equal(nestingOver(JSON.stringify({ note: '[[[[[[[[[[{{{{{{{{' }), 1), false);
    assert.equal(nestingOver(JSON.stringify({ note: 'say "[[[[" \\ [[[[' }), 1), false);
    assert.equal(nestingOver(JSON.stringify(['x\\', [[1]]]), 2), true, 'an escaped backslash before a closing quote ends the string');
  });
});

describe('bodyParser: JSON depth', () => {
  /** bodyParser behind the error middleware and the request log, as the app runs them; the log lines collected. */
  async function post(body: string): Promise<{ status: number; body: { type?: string; title?: string; depth?: number }; logged: Array<Record<string, unknown>> }> {
    const logged: Array<Record<string, unknown>> = [];
    const app = new Koa();
    app.silent = true;
    app.use(requestLog(createLogger('warn', { write: (s: string) => void logged.push(JSON.parse(s)) })));
    app.use(async (ctx, next) => { ctx.state.views = undefined; ctx.state.view = {}; await next(); });
    app.use(errorHandler());
    app.use(bodyParser({ limit: 256 * 1024 }));
    app.use((ctx) => { ctx.body = { depth: depthOf(ctx.request.body) }; });
    const server = http.createServer(app.callback()).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body });
      return { status: res.status, body: await res.json(), logged };
    } finally {
      await new Promise((r) => server.close(r));
    }
  }
  const depthOf = (v: unknown): number => (Array.isArray(v) ? 1 + Math.max(0, ...v.map(depthOf)) : 0);

  it(`takes ${MAX_JSON_DEPTH} levels`, async () => {
    const r = await post(deep(MAX_JSON_DEPTH));
    assert.equal(r.status, 200);
    assert.equal(r.body.depth, MAX_JSON_DEPTH);
  });

  it('refuses a 100 000-deep body with a 400 that says so, and logs no unexpected error', async () => {
    const r = await post(deep(100_000));
    assert.equal(r.status, 400);
    assert.equal(r.body.type, '/problems/malformed-request');
    assert.match(r.body.title!, /too deeply nested/);
    assert.deepEqual(r.logged.filter((l) => l.msg === 'unexpected error' || Number(l.status) >= 500), []);
  });

  it('refuses a NUL in a body at the deepest level it accepts', async () => {
    const r = await post('['.repeat(MAX_JSON_DEPTH - 1) + '"a\\u0000"' + ']'.repeat(MAX_JSON_DEPTH - 1));
    assert.equal(r.status, 400);
    assert.match(r.body.title!, /NUL/);
  });
});
