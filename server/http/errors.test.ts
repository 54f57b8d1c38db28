import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { AppError, tooManyRequests } from '../errors';
import { createViews } from './render';
import { errorHandler } from './errors';

describe('the error middleware: Retry-After', () => {
  const errors: Record<string, () => AppError> = {
    '/limited': () => tooManyRequests(42),
    '/limited-with-message': () => tooManyRequests(7.2, 'Slow down.'),
    '/locked': () => new AppError(423, 'locked', 'Locked.', { retryAfter: 90 }),
    '/limited-unknown': () => tooManyRequests('No idea how long.'),
    '/forever': () => new AppError(423, 'locked', 'Locked.', { retryAfter: Infinity }),
  };
  let server: http.Server;
  let base: string;
  before(async () => {
    const app = new Koa();
    app.silent = true;
    const views = createViews();
    app.use(async (ctx, next) => { ctx.state.views = views; ctx.state.view = {}; await next(); });
    app.use(errorHandler());
    app.use((ctx) => { throw errors[ctx.path](); });
    server = http.createServer(app.callback()).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((r) => server.close(r)));

  for (const [path, status, header] of [
    ['/limited', 429, '42'],
    ['/limited-with-message', 429, '8'],
    ['/locked', 423, '90'],
    ['/limited-unknown', 429, null],
    ['/forever', 423, null],
  ] as const) {
    it(`${path} → ${status}, Retry-After ${header ?? 'absent'}, as JSON and as a page`, async () => {
      for (const headers of [{ Accept: 'application/json' }, { Accept: 'text/html' }, { 'HX-Request': 'true' }] as Array<Record<string, string>>) {
        const res = await fetch(base + path, { headers });
        assert.equal(res.status, status);
        assert.equal(res.headers.get('Retry-After'), header, JSON.stringify(headers));
      }
    });
  }

  it('keeps the message given with the seconds', async () => {
    const res = await fetch(`${base}/limited-with-message`, { headers: { Accept: 'application/json' } });
    assert.equal((await res.json()).title, 'Slow down.');
  });
});
