import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Cookie signing compatible with Koa's `signed: true` (keygrip: `name.sig` = base64url
 * HMAC-SHA1 of `name=value`), readable from a raw request so socket.io's handshake can check
 * the same device cookie the HTTP routes do.
 */
export const DEVICE_COOKIE = 'pos_device';
export const SESSION_COOKIE = 'pos_session';
export const CSRF_COOKIE = 'pos_csrf';

export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    if (k && !out.has(k)) out.set(k, decodeURIComponent(part.slice(i + 1).trim()));
  }
  return out;
}

const sign = (data: string, key: string) =>
  crypto.createHmac('sha1', key).update(data).digest('base64').replace(/\/|\+|=/g, (c) => ({ '/': '_', '+': '-', '=': '' })[c]!);

/** The value of a signed cookie in a raw request, or undefined when absent or forged. */
export function readSignedCookie(req: IncomingMessage, name: string, key: string): string | undefined {
  const jar = parseCookieHeader(req.headers.cookie);
  const value = jar.get(name);
  const sig = jar.get(`${name}.sig`);
  if (value === undefined || !sig) return undefined;
  const expected = Buffer.from(sign(`${name}=${value}`, key));
  const got = Buffer.from(sig);
  return expected.length === got.length && crypto.timingSafeEqual(expected, got) ? value : undefined;
}

/** The CSRF token for a browser: an HMAC of its random csrf cookie under the server's key. */
export function csrfToken(cookieValue: string, key: string): string {
  return crypto.createHmac('sha256', key).update('csrf:' + cookieValue).digest('base64url');
}
