import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type Koa from 'koa';
import type { Logger } from '../logger';
import { createRealtime, type Io, type SocketAuthorizer } from '../realtime/io';
import { readTls } from './tls';

export interface HttpServer {
  server: http.Server;
  io: Io;
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish (up to timeoutMs), closes socket.io. */
  close(): Promise<void>;
}

/** The HTTP(S) server with socket.io on it, listening. Shared by main and the test harness. */
export async function listen(
  app: Koa,
  opts: { port: number; host: string; tls?: { cert: string; key: string }; timeoutMs: number; log: Logger; authorize: SocketAuthorizer },
): Promise<HttpServer> {
  const server = opts.tls
    ? https.createServer(readTls({ TLS_CERT: opts.tls.cert, TLS_KEY: opts.tls.key })!)
    : http.createServer();
  server.on('request', app.callback());
  const io = createRealtime(server, opts.authorize);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? 'localhost' : opts.host;
  const url = `${opts.tls ? 'https' : 'http'}://${host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    server,
    io,
    url,
    port,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        io.disconnectSockets(true);
        const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), opts.timeoutMs).unref());
        if ((await Promise.race([closed, timeout])) === 'timeout') {
          opts.log.warn('in-flight requests did not finish in time; closing them');
          for (const s of sockets) s.destroy();
          await closed;
        }
        await new Promise<void>((resolve) => io.close(() => resolve()));
      })()),
  };
}
