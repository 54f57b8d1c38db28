import http from 'node:http';

/**
 * A browser as the server sees it: one cookie jar, the CSRF token learnt from a page, and the
 * headers htmx sends (HX-Request, HX-Request-Type, X-CSRF-Token). Keep-alive sockets from a shared
 * agent, so the load generator spends its time on requests, not on TCP handshakes.
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

export function keepAliveAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 4096 });
}

export class Browser {
  readonly cookies = new Map<string, string>();
  csrf?: string;
  private readonly host: string;
  private readonly port: number;

  constructor(readonly baseUrl: string, private readonly agent: http.Agent, readonly name = 'browser') {
    const u = new URL(baseUrl);
    this.host = u.hostname;
    this.port = Number(u.port || 80);
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  request(method: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
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
    return new Promise<Reply>((resolve, reject) => {
      const started = process.hrtime.bigint();
      const req = http.request({ agent: this.agent, host: this.host, port: this.port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (opts.keepBody) chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          this.takeCookies(res.headers['set-cookie']);
          const text = opts.keepBody ? Buffer.concat(chunks).toString('utf8') : '';
          if (text) {
            const m = /X-CSRF-Token": "([A-Za-z0-9_-]+)"/.exec(text) ?? /name="_csrf" value="([A-Za-z0-9_-]+)"/.exec(text);
            if (m) this.csrf = m[1];
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, bytes, ms });
        });
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  get(path: string, opts: Omit<RequestOptions, 'form'> = {}) {
    return this.request('GET', path, opts);
  }

  post(path: string, form: Form = {}, opts: Omit<RequestOptions, 'form'> = {}) {
    return this.request('POST', path, { ...opts, form });
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
