import crypto from 'node:crypto';
import canonicalize from 'canonicalize';

export const GENESIS_HASH = '0'.repeat(64);

/** RFC 8785 (JSON Canonicalization Scheme) serialisation. */
export function canonicalJson(value: unknown): string {
  const s = canonicalize(value);
  if (s === undefined) throw new TypeError('value cannot be canonicalised');
  return s;
}

/** hash = hex(SHA-256(prev_hash + canonical)), canonical = the entry without `hash`, by RFC 8785. */
export function entryHash(entry: Record<string, unknown>): string {
  const { hash: _ignored, ...rest } = entry;
  const prev = rest.prev_hash;
  if (typeof prev !== 'string') throw new TypeError('entry has no prev_hash');
  return crypto.createHash('sha256').update(prev + canonicalJson(rest), 'utf8').digest('hex');
}
