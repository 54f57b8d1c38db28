import http from 'node:http';
import { SocketPool, type WireConnection } from './wire';

/**
 * A browser as the server sees it: one cookie jar, the CSRF token learnt from a page, and the
 * headers htmx sends (HX-Request, HX-Request-Type, X-CSRF-Token). One keep-alive socket per browser
 * (wire.ts), so the load generator spends little of the machine's CPU and none on TCP handshakes.
 */
export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** the body, only when asked for (`keepBody`); else '' */
  text: string;
  bytes: number;
  /** from sending the request to the last byte of the answer */
  ms: number;
}

export type Form = Record<string, string | string[]>;

export interface RequestOptions {
  form?: Form;
  /** send the htmx headers (default true); false for a full page load */
  htmx?: boolean;
  keepBody?: boolean;
  headers?: Record<string, string>;
}

/** The sockets of the load generator's terminals (scripts/bench/wire.ts); destroy() closes them all. */
export function keepAliveAgent(): SocketPool {
  return new SocketPool();
}

export class Browser {
  readonly cookies = new Map<string, string>();
  csrf?: string;
  private readonly conn: WireConnection;

  constructor(readonly baseUrl: string, agent: SocketPool, readonly name = 'browser') {
    const u = new URL(baseUrl);
    this.conn = agent.connection(u.hostname, Number(u.port || 80));
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = {
      Accept: 'text/html',
      ...(opts.htmx !== false ? { 'HX-Request': 'true', 'HX-Request-Type': 'partial' } : {}),
      ...opts.headers,
    };
    if (this.cookies.size) headers.Cookie = this.cookieHeader();
    if (this.csrf && method !== 'GET') headers['X-CSRF-Token'] = this.csrf;
    let body: string | undefined;
    if (opts.form) {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.form)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
      body = p.toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    } else if (method !== 'GET') {
      headers['Content-Length'] = '0';
    }
    const started = process.hrtime.bigint();
    const res = await this.conn.request(method, path, headers, body);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    this.takeCookies(res.headers['set-cookie']);
    const text = opts.keepBody ? res.body.toString('utf8') : '';
    if (text) {
      const m = /X-CSRF-Token": "([A-Za-z0-9_-]+)"/.exec(text) ?? /name="_csrf" value="([A-Za-z0-9_-]+)"/.exec(text);
      if (m) this.csrf = m[1];
    }
    return { status: res.status, headers: res.headers, text, bytes: res.body.length, ms };
  }

  get(path: string, opts: Omit<RequestOptions, 'form'> = {}) {
    return this.request('GET', path, opts);
  }

  post(path: string, form: Form = {}, opts: Omit<RequestOptions, 'form'> = {}) {
    return this.request('POST', path, { ...opts, form });
  }

  /** Closes this browser's socket (a later request opens a new one). */
  close(): void {
    this.conn.close();
  }

  private takeCookies(setCookie: string[] | undefined) {
    for (const c of setCookie ?? []) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      if (i < 0) continue;
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** GET `url` until it answers 200 or the deadline passes; the time of the first 200 (ms since `since`). */
export async function waitFor200(url: string, since: bigint, deadlineMs: number, alive: () => boolean): Promise<number> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get(url, { agent: false, timeout: 1000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
    });
    const elapsed = Number(process.hrtime.bigint() - since) / 1e6;
    if (ok) return elapsed;
    if (!alive()) throw new Error(`the server exited before ${url} answered 200`);
    if (elapsed > deadlineMs) throw new Error(`${url} did not answer 200 within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
