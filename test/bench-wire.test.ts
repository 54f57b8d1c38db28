import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dechunk, SocketPool } from '../scripts/bench/wire';

/**
 * The bench's load generator talks HTTP/1.1 with its own small client (scripts/bench/wire.ts).
 * Its peer here is Node's own HTTP server, which frames answers as the store server's do.
 */
describe('the bench\'s HTTP client', () => {
  let server: http.Server;
  let port: number;
  let dropped = false;
  const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string; socket: Socket }> = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, socket: req.socket });
        if (req.url === '/empty') {
          res.statusCode = 204;
          res.setHeader('HX-Redirect', '/orders/7');
          return res.end();
        }
        if (req.url === '/chunked') {
          res.write('first part, ');
          setTimeout(() => res.end('second part'), 5);
          return;
        }
        if (req.url === '/reset') return req.socket.destroy();
        if (req.url === '/drop-once' && !dropped) {
          dropped = true;
          return req.socket.destroy();
        }
        if (req.url === '/close') res.setHeader('Connection', 'close');
        res.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2; Path=/']);
        res.end(`${req.method} ${req.url} ${body}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen.length = 0;
  });

  it('sends the method, path, headers and body, and reads status, headers and body', async () => {
    const pool = new SocketPool();
    const c = pool.connection('127.0.0.1', port);
    const r = await c.request('POST', '/lines?x=1', { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '13', 'X-CSRF-Token': 't0k' }, 'product_id=42');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'POST /lines?x=1 product_id=42');
    assert.deepEqual(r.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/']);
    assert.equal(r.headers['content-length'], String(r.body.length));
    assert.equal(seen[0].headers['x-csrf-token'], 't0k');
    assert.equal(seen[0].headers.host, `127.0.0.1:${port}`);
    pool.destroy();
  });

  it('keeps one socket for a terminal\'s requests, one at a time, and reads bodiless and chunked answers', async () => {
    const pool = new SocketPool();
    const c = pool.connection('127.0.0.1', port);
    const [a, b, d] = await Promise.all([c.request('GET', '/empty', {}), c.request('GET', '/chunked', {}), c.request('GET', '/third', {})]);
    assert.equal(a.status, 204);
    assert.equal(a.headers['hx-redirect'], '/orders/7');
    assert.equal(a.body.length, 0);
    assert.equal(b.headers['transfer-encoding'], 'chunked');
    assert.equal(b.body.toString(), 'first part, second part');
    assert.equal(d.body.toString(), 'GET /third ');
    assert.deepEqual(seen.map((s) => s.url), ['/empty', '/chunked', '/third'], 'in the order asked');
    assert.ok(seen.every((s) => s.socket === seen[0].socket), 'one socket');
    pool.destroy();
  });

  it('opens a new socket after Connection: close, after destroy() and after the server drops an idle one', async () => {
    const pool = new SocketPool();
    const c = pool.connection('127.0.0.1', port);
    assert.equal((await c.request('GET', '/close', {})).status, 200);
    assert.equal((await c.request('GET', '/after-close', {})).status, 200);
    assert.notEqual(seen[1].socket, seen[0].socket);
    // destroy() right before a request: the old socket's late 'close' must not fail the new request
    pool.destroy();
    assert.equal((await c.request('GET', '/after-destroy', {})).status, 200);
    assert.notEqual(seen[2].socket, seen[1].socket);
    // the server closes the idle socket (its keep-alive timeout)
    seen[2].socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await c.request('GET', '/after-idle-close', {})).status, 200);
    pool.destroy();
  });

  it('fails a request whose connection breaks, and the next one still goes through', async () => {
    const pool = new SocketPool();
    const c = pool.connection('127.0.0.1', port);
    const dead = new SocketPool().connection('127.0.0.1', 1);
    await assert.rejects(dead.request('GET', '/', {}), /GET \/: .*ECONNREFUSED/);
    const first = c.request('GET', '/chunked', {});
    setTimeout(() => pool.destroy(), 1);
    await assert.rejects(first, /GET \/chunked: the connection was closed/);
    assert.equal((await c.request('GET', '/again', {})).status, 200);
    // the server drops the connection without an answer: the request queued behind goes out on a new one
    const [reset, queued] = await Promise.allSettled([c.request('GET', '/reset', {}), c.request('GET', '/queued', {})]);
    assert.equal(reset.status, 'rejected');
    assert.match(String((reset as PromiseRejectedResult).reason), /GET \/reset: /);
    assert.equal(queued.status === 'fulfilled' && queued.value.body.toString(), 'GET /queued ');
    pool.destroy();
  });

  it('sends a request once more on a new socket when a reused one breaks before any answer, as a browser does', async () => {
    const pool = new SocketPool();
    const c = pool.connection('127.0.0.1', port);
    assert.equal((await c.request('GET', '/warm', {})).status, 200);
    // the server closes the kept-alive socket as the next request arrives (its idle timeout)
    const r = await c.request('POST', '/drop-once', { 'Content-Length': '3' }, 'a=1');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'POST /drop-once a=1');
    const tries = seen.filter((s) => s.url === '/drop-once');
    assert.equal(tries.length, 2);
    assert.equal(tries[0].socket, seen[0].socket, 'first on the reused socket');
    assert.notEqual(tries[1].socket, tries[0].socket, 'then on a new one');
    // a fresh socket that breaks is not tried again
    const fresh = new SocketPool().connection('127.0.0.1', port);
    await assert.rejects(fresh.request('GET', '/reset', {}), /GET \/reset: /);
    assert.equal(seen.filter((s) => s.url === '/reset').length, 1);
    pool.destroy();
  });

  it('decodes chunked bodies as RFC 9112 §7.1 frames them, and waits for the last chunk', () => {
    // RFC 9112 §7.1: chunk-size in hex [; ext] CRLF data CRLF … last-chunk "0" CRLF [trailers] CRLF
    const wire = Buffer.from('HEAD4\r\nWiki\r\n6;ext=1\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\n\r\n', 'latin1');
    assert.equal(dechunk(wire, 4)?.toString('latin1'), 'Wikipedia in \r\n\r\nchunks.');
    assert.equal(dechunk(Buffer.from('4\r\nWiki\r\n0\r\nExpires: never\r\n\r\n'), 0)?.toString(), 'Wiki');
    assert.equal(dechunk(wire.subarray(0, wire.length - 2), 4), undefined);
    assert.equal(dechunk(Buffer.from('4\r\nWi'), 0), undefined);
    assert.throws(() => dechunk(Buffer.from('zz\r\n'), 0), /bad chunk size/);
  });
});
