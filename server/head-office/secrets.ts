import crypto from 'node:crypto';
import { promisify } from 'node:util';

/**
 * The head office's secrets. A store's secret must be kept in a form the service can read back
 * (it computes the HMAC of every batch with it), so it is sealed with AES-256-GCM under a key
 * derived from the service's SECRET_KEY: a dump of the database alone does not carry it. The
 * status page's passwords are only ever compared: a slow salted hash (scrypt). Its session
 * cookie is signed with another key derived from SECRET_KEY, so any instance reads it.
 */
const VERSION = 'v1';

function derive(secretKey: string, purpose: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', Buffer.from(secretKey, 'utf8'), Buffer.alloc(0), Buffer.from(`head-office ${purpose}`, 'utf8'), 32));
}

/** A new store secret: 32 random bytes, URL-safe (what `ledger add-store` prints once). */
export function newStoreSecret(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export function sealStoreSecret(secretKey: string, secret: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', derive(secretKey, 'store secret'), iv);
  const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), sealed.toString('base64url')].join('.');
}

/** The secret in clear; throws when it was sealed under another key (SECRET_KEY changed). */
export function openStoreSecret(secretKey: string, box: string): string {
  const [v, iv, tag, sealed] = box.split('.');
  if (v !== VERSION || !iv || !tag || sealed === undefined) throw new Error('not a sealed store secret');
  const decipher = crypto.createDecipheriv('aes-256-gcm', derive(secretKey, 'store secret'), Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]).toString('utf8');
}

/** Whether `header` is `sha256=<hex HMAC-SHA256 of body keyed with secret>`, compared in constant time. */
export function signatureMatches(secret: string, body: Buffer, header: string): boolean {
  const expected = Buffer.from('sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex'));
  const sent = Buffer.from(header);
  return sent.length === expected.length && crypto.timingSafeEqual(sent, expected);
}

const scrypt = promisify(crypto.scrypt) as (pw: string, salt: Buffer, len: number, opts: crypto.ScryptOptions) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1 };

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const hash = await scrypt(password, salt, 32, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [kind, N, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const got = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(N), r: Number(r), p: Number(p) });
  return crypto.timingSafeEqual(got, expected);
}

/**
 * A session cookie's value: `name.expiresMs.mac`, the mac over both and the operator's password
 * hash, so setting a new password ends every session of that name. Nothing is kept in memory or
 * in the database: any instance checks it.
 */
export function signSession(secretKey: string, name: string, expiresMs: number, passwordHash: string): string {
  const mac = crypto.createHmac('sha256', derive(secretKey, 'session')).update(`${name}\n${expiresMs}\n${passwordHash}`).digest('base64url');
  return `${Buffer.from(name, 'utf8').toString('base64url')}.${expiresMs}.${mac}`;
}

/** The session's operator name and expiry as written (unchecked: verify with signSession once the hash is read). */
export function readSession(value: string): { name: string; expiresMs: number; mac: string } | undefined {
  const [n, e, mac] = value.split('.');
  const expiresMs = Number(e);
  if (!n || !mac || !Number.isSafeInteger(expiresMs)) return undefined;
  return { name: Buffer.from(n, 'base64url').toString('utf8'), expiresMs, mac };
}

export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
