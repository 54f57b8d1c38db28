import crypto from 'node:crypto';
import { setImmediate as yieldToSales } from 'node:timers/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { JournalEntry } from '../journal/service';
import { entryLine } from '../journal/sync';

const gzip = promisify(zlib.gzip);

/** A range of the journal as ARCHITECTURE's "cloud ledger protocol" sends it. */
export interface EncodedBatch {
  firstSeq: number;
  lastSeq: number;
  /** the chain's hash at lastSeq */
  lastHash: string;
  /** NDJSON, one entry per line in its one JSON form, gzip-compressed: the bytes sent */
  body: Buffer;
  bodySha256: string;
}

/** Entries serialised between two turns of the event loop: a sale waits for at most this many. */
const CHUNK = 200;

/**
 * Encodes a contiguous range. The work is cut into small chunks and the compression runs off
 * the main thread, so a 5000-entry batch never holds up a sale being answered. The same entries
 * give the same bytes.
 */
export async function encodeBatch(entries: readonly JournalEntry[]): Promise<EncodedBatch> {
  if (!entries.length) throw new RangeError('an empty batch');
  const parts: string[] = [];
  for (let i = 0; i < entries.length; i += CHUNK) {
    if (i) await yieldToSales();
    let s = '';
    for (const e of entries.slice(i, i + CHUNK)) s += entryLine(e) + '\n';
    parts.push(s);
  }
  const body = await gzip(Buffer.from(parts.join(''), 'utf8'));
  const last = entries[entries.length - 1];
  return { firstSeq: entries[0].seq, lastSeq: last.seq, lastHash: last.hash, body, bodySha256: crypto.createHash('sha256').update(body).digest('hex') };
}

/** `sha256=<hex HMAC-SHA256 of the body bytes exactly as sent, keyed with the store secret>` */
export function signBody(secret: string, body: Buffer): string {
  return 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex');
}
