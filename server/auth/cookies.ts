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

/** The value of a signed cookie in a raw request, or undefined when absent or forged. */
export function readSignedCookie(req: IncomingMessage, name: string, key: string): string | undefined {
  const jar = parseCookieHeader(req.headers.cookie);
  const value = jar.get(name);
  const sig = jar.get(`${name}.sig`);
  if (value === undefined || !sig) return undefined;
  return new CookieKeys([key]).verify(`${name}=${value}`, sig) ? value : undefined;
}

/**
 * What Koa's signed cookies ask of `app.keys` (keygrip's `sign` and `index`), with the same
 * signatures as keygrip (HMAC-SHA1, base64url without padding), so cookies it issued stay valid.
 *
 * keygrip compares a signature by drawing 32 random bytes and computing two more HMACs; reading
 * the three signed cookies of every request that way was about 4 % of the server's CPU in the
 * bench's profile. One HMAC per key and crypto.timingSafeEqual do the same job in constant time.
 */
export class CookieKeys {
  private readonly keys: readonly string[];
  /**
   * Signatures already checked, by `data` and `digest` together: a terminal sends the same
   * cookies with every request, and an HMAC per cookie per request added up (perf). Only an exact
   * pair seen valid before is a hit; anything else is checked in constant time as before.
   */
  private readonly verified = new Map<string, number>();

  constructor(keys: readonly string[]) {
    if (!keys.length) throw new Error('at least one cookie key is needed');
    this.keys = keys;
  }

  sign(data: string): string {
    return signWith(this.keys[0], data);
  }

  /** Which key signed `data` with `digest` (0 is the current one), or -1. */
  index(data: string, digest: string): number {
    // length-prefixed: no other split of the same characters into data and digest makes it
    const memo = `${digest.length}:${digest}${data}`;
    const known = this.verified.get(memo);
    if (known !== undefined) return known;
    const given = Buffer.from(String(digest));
    for (let i = 0; i < this.keys.length; i++) {
      const expected = Buffer.from(signWith(this.keys[i], data));
      if (given.length === expected.length && crypto.timingSafeEqual(given, expected)) {
        if (this.verified.size >= MEMO_MAX) this.verified.clear();
        this.verified.set(memo, i);
        return i;
      }
    }
    return -1;
  }

  verify(data: string, digest: string): boolean {
    return this.index(data, digest) > -1;
  }
}

const MEMO_MAX = 10_000;

function signWith(key: string, data: string): string {
  return crypto.createHmac('sha1', key).update(data).digest('base64url');
}

/** The CSRF token for a browser: an HMAC of its random csrf cookie under the server's key. */
export function csrfToken(cookieValue: string, key: string): string {
  const memo = `${key.length}:${key}${cookieValue}`;
  let token = tokens.get(memo);
  if (token === undefined) {
    token = crypto.createHmac('sha256', key).update('csrf:' + cookieValue).digest('base64url');
    if (tokens.size >= MEMO_MAX) tokens.clear();
    tokens.set(memo, token);
  }
  return token;
}
// the same browser asks for its token on every request (a pure function of the cookie and key)
const tokens = new Map<string, string>();
