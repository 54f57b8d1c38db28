import crypto from 'node:crypto';
import { canonicalJson } from './canonical';

export const GENESIS_HASH = '0'.repeat(64);

export { canonicalJson };

/** hash = hex(SHA-256(prev_hash + canonical)), canonical = the entry without `hash`, by RFC 8785. */
export function entryHash(entry: Record<string, unknown>): string {
  const { hash: _ignored, ...rest } = entry;
  const prev = rest.prev_hash;
  if (typeof prev !== 'string') throw new TypeError('entry has no prev_hash');
  return crypto.createHash('sha256').update(prev + canonicalJson(rest), 'utf8').digest('hex');
}
