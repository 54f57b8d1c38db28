import crypto from 'node:crypto';
import type { Clock } from '../clock';
import type { DbOrTrx } from '../db/knex';

/**
 * The store secret the batches are signed with. Write-only: a page or the CLI can set it, nothing
 * shows it back, nothing logs it. It is kept in `settings` under SECRET_KEY_NAME, encrypted with
 * AES-256-GCM under a key derived from the server's SECRET_KEY (server/secret-key.ts), so a
 * database dump or backup does not carry it in clear. If SECRET_KEY changes, it cannot be read
 * any more and the status says to set it again.
 */
const SETTING = 'secret:ledger';
const VERSION = 'v1';

function keyFrom(secretKey: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', Buffer.from(secretKey, 'utf8'), Buffer.alloc(0), Buffer.from('store-server ledger secret', 'utf8'), 32));
}

export function sealSecret(secretKey: string, secret: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', keyFrom(secretKey), iv);
  const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), sealed.toString('base64url')].join('.');
}

export function openSecret(secretKey: string, box: string): string {
  const [v, iv, tag, sealed] = box.split('.');
  if (v !== VERSION || !iv || !tag || sealed === undefined) throw new Error('not a sealed ledger secret');
  const decipher = crypto.createDecipheriv('aes-256-gcm', keyFrom(secretKey), Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]).toString('utf8');
}

/** What a secret must look like: what one pastes from the head office, 16 to 512 printable characters. */
export function secretProblem(secret: string): string | undefined {
  if (secret.length < 16 || secret.length > 512) return 'The store secret is 16 to 512 characters long.';
  if (!/^[\x21-\x7e]+$/.test(secret)) return 'The store secret has no spaces and only plain printable characters.';
  return undefined;
}

export async function storeSecret(db: DbOrTrx, clock: Clock, secretKey: string, secret: string): Promise<void> {
  await db('settings').insert({ key: SETTING, value: JSON.stringify(sealSecret(secretKey, secret)), updated_at: clock.now() }).onConflict('key').merge();
}

export async function hasSecret(db: DbOrTrx): Promise<boolean> {
  return !!(await db('settings').where({ key: SETTING }).first('key'));
}

/** The secret in clear, for signing; undefined when none is set; throws when it cannot be read. */
export async function readSecret(db: DbOrTrx, secretKey: string): Promise<string | undefined> {
  const row = await db('settings').where({ key: SETTING }).first('value');
  if (!row) return undefined;
  try {
    return openSecret(secretKey, row.value as string);
  } catch {
    throw new Error('The store secret cannot be read (the server\'s SECRET_KEY changed?): set it again on the Ledger page.');
  }
}
