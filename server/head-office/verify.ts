import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { entryHash } from '../journal/hash';

/**
 * A batch's entries checked on their own, before anything of the store's chain is read
 * (ARCHITECTURE, "The cloud ledger protocol"): gzip NDJSON, one entry per line, seq first…last
 * in order and no other, each linked to the one before by prev_hash, each hash recomputed by the
 * one rule (server/journal/hash.ts, RFC 8785). Pure: the chain's continuity with what the ledger
 * already holds is checked under the store's head lock (./service.ts).
 */
export interface ReceivedEntry {
  seq: number;
  prevHash: string;
  hash: string;
  kind: string | null;
  businessDate: string | null;
  at: string | null;
  /** the entry exactly as it came: what `entries` serves back */
  line: string;
}

export type Decoded =
  | { ok: true; entries: ReceivedEntry[] }
  | { ok: false; status: 413 | 422; error: string; atSeq?: number };

/** The most NDJSON one batch may unpack to, and the most entries in one. */
export const MAX_BATCH_NDJSON_BYTES = 256 * 1024 * 1024;
export const MAX_BATCH_ENTRIES = 50_000;

const gunzip = promisify(zlib.gunzip);
const HEX64 = /^[0-9a-f]{64}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export async function decodeBatch(body: Buffer, firstSeq: number, lastSeq: number): Promise<Decoded> {
  const count = lastSeq - firstSeq + 1;
  if (count > MAX_BATCH_ENTRIES) return { ok: false, status: 413, error: `A batch holds at most ${MAX_BATCH_ENTRIES} entries.` };
  let text: string;
  try {
    text = (await gunzip(body, { maxOutputLength: MAX_BATCH_NDJSON_BYTES })).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return { ok: false, status: 413, error: `A batch unpacks to at most ${MAX_BATCH_NDJSON_BYTES} bytes.` };
    return { ok: false, status: 422, error: 'The batch is not gzip-compressed NDJSON.', atSeq: firstSeq };
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const entries: ReceivedEntry[] = [];
  let prev: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const seq = firstSeq + i;
    const refuse = (why: string): Decoded => ({ ok: false, status: 422, error: `entry ${seq}: ${why}`, atSeq: seq });
    if (seq > lastSeq) return refuse(`the batch says it ends at ${lastSeq} but goes on`);
    let e: unknown;
    try {
      e = JSON.parse(lines[i]);
    } catch {
      return refuse('not a JSON line');
    }
    if (!e || typeof e !== 'object' || Array.isArray(e)) return refuse('not a JSON object');
    const entry = e as Record<string, unknown>;
    if (entry.seq !== seq) return refuse(`its seq is ${JSON.stringify(entry.seq)}, not ${seq}`);
    if (typeof entry.prev_hash !== 'string' || !HEX64.test(entry.prev_hash)) return refuse('no prev_hash');
    if (typeof entry.hash !== 'string' || !HEX64.test(entry.hash)) return refuse('no hash');
    if (prev !== undefined && entry.prev_hash !== prev) return refuse(`its prev_hash is not the hash of entry ${seq - 1}`);
    if (entryHash(entry) !== entry.hash) return refuse('its hash does not match its content');
    prev = entry.hash;
    entries.push({
      seq,
      prevHash: entry.prev_hash,
      hash: entry.hash,
      kind: typeof entry.kind === 'string' && /^[a-z_]{1,40}$/.test(entry.kind) ? entry.kind : null,
      businessDate: typeof entry.business_date === 'string' && DATE.test(entry.business_date) ? entry.business_date : null,
      at: typeof entry.at === 'string' && !Number.isNaN(Date.parse(entry.at)) ? entry.at : null,
      line: lines[i],
    });
  }
  if (entries.length !== count) return { ok: false, status: 422, error: `the batch says it ends at ${lastSeq} but ends at ${firstSeq + entries.length - 1}`, atSeq: firstSeq + entries.length };
  return { ok: true, entries };
}
