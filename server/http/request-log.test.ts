import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createLogger } from '../logger';
import { errorHandler } from './errors';
import { requestLog } from './request-log';

/** A Koa app with the request log and error handler in front of `route`, its log lines collected. */
async function withApp(level: string, route: Koa.Middleware, f: (url: string, lines: Array<Record<string, unknown>>) => Promise<void>) {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger(level, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const app = new Koa();
  app.silent = true;
  app.use(requestLog(log));
  app.use(errorHandler());
  app.use(route);
  const server = http.createServer(app.callback()).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    await f(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, lines);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

describe('the request log', () => {
  it('at info: one line per request with its id; a failure logs its error under the same id', async () => {
    await withApp('info', async (ctx) => {
      if (ctx.path === '/boom') throw new Error('kaput');
      ctx.body = 'ok';
    }, async (url, lines) => {
      await fetch(`${url}/fine`);
      await fetch(`${url}/boom`, { headers: { Accept: 'application/json' } });
      const requests = lines.filter((l) => l.msg === 'request');
      assert.deepEqual(requests.map((l) => [l.url, l.status]), [['/fine', 200], ['/boom', 500]]);
      const failure = lines.find((l) => l.msg === 'unexpected error')!;
      assert.equal((failure.err as { message: string }).message, 'kaput');
      assert.equal(failure.reqId, requests[1].reqId);
      assert.notEqual(requests[0].reqId, requests[1].reqId);
    });
  });

  it('at warn: nothing for a good request, the error with its request id for a failure', async () => {
    await withApp('warn', async (ctx) => {
      if (ctx.path === '/boom') throw new Error('kaput');
      ctx.body = 'ok';
    }, async (url, lines) => {
      await fetch(`${url}/fine`);
      assert.equal(lines.length, 0);
      await fetch(`${url}/boom`, { headers: { Accept: 'application/json' } });
      assert.deepEqual(lines.map((l) => l.msg), ['unexpected error', 'request']);
      assert.equal(lines[0].reqId, lines[1].reqId);
    });
  });
});
