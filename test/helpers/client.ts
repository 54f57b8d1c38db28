import assert from 'node:assert/strict';
import type { Reply } from './http';
import { createPairingCode } from '../../server/auth/pairing';
import type { TerminalKind } from '../../server/auth/service';
import type { TestApp } from './app';

/**
 * A browser-like HTTP client: keeps cookies, learns the CSRF token from the pages it loads and
 * sends it the way htmx does (X-CSRF-Token), so tests go through the real security layer.
 */
export class Client {
  cookies = new Map<string, string>();
  csrf?: string;
  constructor(readonly base: string) {}

  /** The same browser (cookies, token) talking to another address: a restarted server. */
  withBase(base: string): Client {
    const c = new Client(base);
    c.cookies = new Map(this.cookies);
    c.csrf = this.csrf;
    return c;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(method: string, path: string, opts: { form?: Record<string, string | string[]>; json?: unknown; headers?: Record<string, string>; htmx?: boolean; csrf?: boolean } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...(opts.htmx !== false ? { 'HX-Request': 'true', 'HX-Request-Type': 'partial' } : {}), ...opts.headers };
    if (this.cookies.size) headers.Cookie = this.cookieHeader();
    if (this.csrf && opts.csrf !== false && method !== 'GET') headers['X-CSRF-Token'] = this.csrf;
    let body: string | undefined;
    if (opts.form) {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.form)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
      body = p.toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['Content-Type'] = 'application/json';
    }
    const res = await fetch(this.base + path, { method, headers, body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    const m = /X-CSRF-Token": "([A-Za-z0-9_-]+)"/.exec(text) ?? /name="_csrf" value="([A-Za-z0-9_-]+)"/.exec(text);
    if (m) this.csrf = m[1];
    return { status: res.status, headers: res.headers, text };
  }

  get(path: string, opts: { htmx?: boolean; headers?: Record<string, string> } = {}) {
    return this.request('GET', path, opts);
  }
  post(path: string, form: Record<string, string | string[]> = {}, opts: { headers?: Record<string, string>; htmx?: boolean; csrf?: boolean } = {}) {
    return this.request('POST', path, { ...opts, form });
  }
}

/** A client paired as a new terminal through the real /pair flow, logged in with `pin` when given. */
export async function pairedClient(app: TestApp, opts: { kind?: TerminalKind; pin?: string; name?: string } = {}): Promise<Client> {
  const c = new Client(app.url);
  const { code } = await createPairingCode({ db: app.db, clock: app.clock }, { name: opts.name ?? 'Test terminal', kind: opts.kind ?? 'counter' }, { staffId: null, terminalId: null });
  await c.get('/pair', { htmx: false });
  const paired = await c.post('/pair', { code });
  assert.equal(paired.status, 204, `pairing: ${paired.status} ${paired.text}`);
  if (opts.pin) await login(c, opts.pin);
  return c;
}

export async function login(c: Client, pin: string): Promise<void> {
  await c.get('/login', { htmx: false });
  const r = await c.post('/login', { pin });
  assert.equal(r.status, 204, `login: ${r.status} ${r.text}`);
  await c.get('/terminal', { htmx: false }); // refresh the CSRF token from a page
}

export const PINS = { owner: '1111', manager: '2222', cashier: '3333', server: '4444' } as const;
