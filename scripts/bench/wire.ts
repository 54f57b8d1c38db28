import type http from 'node:http';
import net from 'node:net';

/**
 * The load generator's HTTP/1.1 client: one keep-alive socket per simulated terminal, the request
 * written in one piece, the answer read by a parser that knows only what the server sends
 * (Content-Length or chunked bodies, Connection: close).
 *
 * Why not node:http's client: the load generator runs on the same two cores as the server and
 * PostgreSQL, and every core-millisecond it spends is taken from them. node:http's client cost
 * about 200 µs of CPU per request in the rush (agent bookkeeping, a timer per request, stream
 * events), this one a fraction of that. Terminals in a store are other devices; the less the
 * stand-in for them costs here, the closer the figures are to the store's.
 */
export interface WireReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Every socket the terminals of a run have open, so a run can close them all (like http.Agent's destroy). */
export class SocketPool {
  private readonly open = new Set<WireConnection>();

  connection(host: string, port: number): WireConnection {
    return new WireConnection(host, port, this);
  }

  /** @internal */
  opened(c: WireConnection): void {
    this.open.add(c);
  }

  /** @internal */
  closed(c: WireConnection): void {
    this.open.delete(c);
  }

  /** Closes every socket; a terminal reconnects on its next request. */
  destroy(): void {
    for (const c of [...this.open]) c.close();
  }
}

const CRLF2 = Buffer.from('\r\n\r\n');
const IDLE_TIMEOUT_MS = 30_000;

interface Pending {
  resolve(r: WireReply): void;
  reject(err: Error): void;
  what: string;
  payload: Buffer;
  /** sent on a socket an earlier request had used (the server may have closed it meanwhile) */
  reused: boolean;
  /** some of the answer has come */
  answered: boolean;
  retried: boolean;
}

/** One keep-alive connection, one request at a time (as a browser's connection, without pipelining). */
export class WireConnection {
  private socket?: net.Socket;
  private pending?: Pending;
  private readonly queued: Array<() => void> = [];
  private buf: Buffer = Buffer.alloc(0);
  private head?: { status: number; headers: http.IncomingHttpHeaders; bodyStart: number; length: number | 'chunked' | 'close'; keepAlive: boolean };

  constructor(private readonly host: string, private readonly port: number, private readonly pool: SocketPool) {}

  /** Sends one request; a request made while another is under way waits for it (no pipelining). */
  request(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<WireReply> {
    if (!this.pending && !this.queued.length) return this.send(method, path, headers, body);
    return new Promise<void>((go) => this.queued.push(go)).then(() => this.send(method, path, headers, body));
  }

  private send(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<WireReply> {
    let text = `${method} ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nConnection: keep-alive\r\n`;
    for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
    const payload = body === undefined ? Buffer.from(text + '\r\n') : Buffer.concat([Buffer.from(text + '\r\n'), typeof body === 'string' ? Buffer.from(body) : body]);
    return new Promise<WireReply>((resolve, reject) => {
      this.pending = { resolve, reject, what: `${method} ${path}`, payload, reused: this.socket !== undefined, answered: false, retried: false };
      this.connect().write(payload);
    });
  }

  close(): void {
    this.drop();
    this.fail(new Error('the connection was closed'), false);
  }

  /** Closes the socket now; its later events are ignored and the next request opens a new one. */
  private drop(): void {
    const s = this.socket;
    if (!s) return;
    this.socket = undefined;
    this.pool.closed(this);
    s.destroy();
  }

  private connect(): net.Socket {
    if (this.socket) return this.socket;
    const s = net.connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = s;
    this.buf = Buffer.alloc(0);
    this.head = undefined;
    this.pool.opened(this);
    s.setTimeout(IDLE_TIMEOUT_MS, () => s.destroy(new Error(`no answer in ${IDLE_TIMEOUT_MS / 1000} s`)));
    // a socket closed by destroy() reports its end later, maybe after the next request went out
    // on a new one: only the current socket's events count
    s.on('data', (chunk: Buffer) => {
      if (this.socket === s) this.onData(chunk);
    });
    s.on('error', (err) => {
      if (this.socket !== s) return;
      // the next request (maybe queued behind this one) goes out on a new socket
      this.drop();
      this.fail(err);
    });
    s.on('close', () => {
      if (this.socket !== s) return;
      this.pool.closed(this);
      this.socket = undefined;
      // a body delimited by the end of the connection ends here
      if (this.pending && this.head?.length === 'close') return this.finish(this.buf.subarray(this.head.bodyStart), false);
      this.fail(new Error('the server closed the connection'));
    });
    return s;
  }

  /**
   * The request failed. As a browser does, a request sent on a reused keep-alive socket that
   * broke before any of its answer came is sent once more on a new socket: the server may have
   * closed the idle socket just as the request went out (Node closes one after 5 s idle).
   */
  private fail(err: Error, mayRetry = true): void {
    const p = this.pending;
    if (p && mayRetry && p.reused && !p.answered && !p.retried) {
      p.retried = true;
      p.reused = false;
      this.drop();
      this.head = undefined;
      this.buf = Buffer.alloc(0);
      this.connect().write(p.payload);
      return;
    }
    this.pending = undefined;
    this.head = undefined;
    this.buf = Buffer.alloc(0);
    p?.reject(new Error(`${p.what}: ${err.message}`));
    if (p) this.queued.shift()?.();
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    if (this.pending) this.pending.answered = true;
    if (!this.pending) {
      this.drop();
      return this.fail(new Error('the server sent bytes nobody asked for'));
    }
    if (!this.head) {
      const end = this.buf.indexOf(CRLF2);
      if (end < 0) return;
      try {
        this.head = parseHead(this.buf.toString('latin1', 0, end), end + 4);
      } catch (err) {
        this.drop();
        return this.fail(err as Error, false);
      }
    }
    const h = this.head;
    if (typeof h.length === 'number') {
      if (this.buf.length - h.bodyStart >= h.length) this.finish(this.buf.subarray(h.bodyStart, h.bodyStart + h.length), h.keepAlive);
    } else if (h.length === 'chunked') {
      let body: Buffer | undefined;
      try {
        body = dechunk(this.buf, h.bodyStart);
      } catch (err) {
        this.drop();
        return this.fail(err as Error, false);
      }
      if (body) this.finish(body, h.keepAlive);
    }
  }

  private finish(body: Buffer, keepAlive: boolean): void {
    const p = this.pending!;
    const { status, headers } = this.head!;
    this.pending = undefined;
    this.head = undefined;
    this.buf = Buffer.alloc(0);
    if (!keepAlive) this.drop();
    p.resolve({ status, headers, body });
    this.queued.shift()?.();
  }
}

function parseHead(text: string, bodyStart: number) {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!m) throw new Error(`not an HTTP answer: ${lines[0].slice(0, 80)}`);
  const status = Number(m[1]);
  const headers: http.IncomingHttpHeaders = {};
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(':');
    if (colon <= 0) continue;
    const name = lines[i].slice(0, colon).trim().toLowerCase();
    const value = lines[i].slice(colon + 1).trim();
    if (name === 'set-cookie') (headers['set-cookie'] ??= []).push(value);
    else headers[name] = headers[name] === undefined ? value : `${headers[name] as string}, ${value}`;
  }
  const keepAlive = !/\bclose\b/i.test(String(headers.connection ?? ''));
  let length: number | 'chunked' | 'close';
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) length = 0;
  else if (/\bchunked\b/i.test(String(headers['transfer-encoding'] ?? ''))) length = 'chunked';
  else if (headers['content-length'] !== undefined) length = Number(headers['content-length']);
  else length = 'close';
  if (typeof length === 'number' && !(Number.isInteger(length) && length >= 0)) throw new Error(`a bad Content-Length: ${String(headers['content-length'])}`);
  return { status, headers, bodyStart, length, keepAlive };
}

/** The body of a complete chunked message starting at `from`, or undefined while it is still arriving. */
export function dechunk(buf: Buffer, from: number): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const eol = buf.indexOf('\r\n', at, 'latin1');
    if (eol < 0) return undefined;
    const size = parseInt(buf.toString('latin1', at, eol).split(';')[0], 16);
    if (Number.isNaN(size)) throw new Error('a bad chunk size');
    if (size === 0) {
      // trailers (when there are some) end with an empty line
      const end = buf.indexOf(CRLF2, eol, 'latin1');
      const bare = buf.length >= eol + 4 && buf[eol + 2] === 13 && buf[eol + 3] === 10;
      if (!bare && end < 0) return undefined;
      return Buffer.concat(parts);
    }
    if (buf.length < eol + 2 + size + 2) return undefined;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}
