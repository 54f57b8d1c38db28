import type { JournalEntry } from '../journal/service';
import { signBody, type EncodedBatch } from './encode';

/**
 * The store's side of ARCHITECTURE's "cloud ledger protocol", one function per request and no
 * state: what the ledger answered, in the protocol's words. Never called inside a transaction.
 */
export interface LedgerTarget {
  url: string;
  storeId: string;
}

export type PostOutcome =
  /** 2xx: the ledger holds everything up to ackedThrough */
  | { kind: 'acked'; status: number; ackedThrough: number }
  /** 409: resend from expectedSeq */
  | { kind: 'expected'; status: 409; expectedSeq: number }
  /** 422: the ledger holds a different entry at atSeq */
  | { kind: 'fork'; status: 422; atSeq: number | null; error: string }
  /** 401: the signature was refused: the wrong secret */
  | { kind: 'bad-signature'; status: 401; error: string }
  /** anything else, or no answer: retry later */
  | { kind: 'failed'; status: number | null; error: string };

export interface LedgerHead {
  ackedThrough: number;
  hash: string;
}

const HASH = /^[0-9a-f]{64}$/;

export function storeUrl(t: LedgerTarget, path: string): string {
  return `${t.url.replace(/\/+$/, '')}/v1/stores/${encodeURIComponent(t.storeId)}${path}`;
}

/** POSTs one batch; every answer and every failure to get one becomes a PostOutcome (this never throws). */
export async function postBatch(t: LedgerTarget, secret: string, batchId: string, batch: EncodedBatch, signal: AbortSignal): Promise<PostOutcome> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(storeUrl(t, '/batches'), {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-ndjson',
        'Content-Encoding': 'gzip',
        'Idempotency-Key': batchId,
        'X-Batch-First-Seq': String(batch.firstSeq),
        'X-Batch-Last-Seq': String(batch.lastSeq),
        'X-Signature': signBody(secret, batch.body),
        'User-Agent': 'store-server-ledger',
      },
      body: new Uint8Array(batch.body.buffer as ArrayBuffer, batch.body.byteOffset, batch.body.byteLength),
      redirect: 'manual',
      signal,
    });
    text = await res.text();
  } catch (err) {
    return { kind: 'failed', status: null, error: noAnswer(err, signal) };
  }
  const body = parseJson(text);
  const s = res.status;
  if (s >= 200 && s < 300) {
    const n = body?.ackedThrough;
    if (!isSeq(n)) return { kind: 'failed', status: s, error: `HTTP ${s} without a valid ackedThrough` };
    return { kind: 'acked', status: s, ackedThrough: n };
  }
  const expectedSeq = body?.expectedSeq;
  const atSeq = body?.atSeq;
  const said = typeof body?.error === 'string' ? body.error : undefined;
  if (s === 409 && isSeq(expectedSeq) && expectedSeq >= 1) return { kind: 'expected', status: 409, expectedSeq };
  if (s === 422) return { kind: 'fork', status: 422, atSeq: isSeq(atSeq) ? atSeq : null, error: said?.slice(0, 300) ?? 'a different entry' };
  if (s === 401) return { kind: 'bad-signature', status: 401, error: 'The cloud ledger refused the signature (HTTP 401): the store secret is wrong. Set it again on the Ledger page.' };
  return { kind: 'failed', status: s, error: `HTTP ${s}${said !== undefined ? `: ${said.slice(0, 200)}` : ''}` };
}

/** What the ledger holds of this store; throws (with a message for the status) when it cannot tell. */
export async function getHead(t: LedgerTarget, signal: AbortSignal): Promise<LedgerHead> {
  const body = parseJson(await getText(t, '/head', signal));
  const ackedThrough = body?.ackedThrough;
  const hash = body?.hash;
  if (!isSeq(ackedThrough) || typeof hash !== 'string' || !HASH.test(hash)) throw new Error('The cloud ledger answered its head without ackedThrough and hash.');
  return { ackedThrough, hash };
}

/** Up to `limit` entries after `afterSeq`, in order, as the ledger holds them (not yet verified). */
export async function getEntries(t: LedgerTarget, afterSeq: number, limit: number, signal: AbortSignal): Promise<JournalEntry[]> {
  const text = await getText(t, `/entries?afterSeq=${afterSeq}&limit=${limit}`, signal);
  const out: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const e = parseJson(line);
    if (!e) throw new Error('The cloud ledger sent an entry that is not JSON.');
    out.push(e as unknown as JournalEntry);
  }
  return out;
}

async function getText(t: LedgerTarget, path: string, signal: AbortSignal): Promise<string> {
  let res: Response;
  try {
    res = await fetch(storeUrl(t, path), { headers: { Accept: 'application/json, application/x-ndjson', 'User-Agent': 'store-server-ledger' }, redirect: 'manual', signal });
  } catch (err) {
    throw new Error(noAnswer(err, signal));
  }
  const text = await res.text().catch((err: unknown) => {
    throw new Error(noAnswer(err, signal));
  });
  if (res.status !== 200) throw new Error(`The cloud ledger answered ${path.split('?')[0]} with HTTP ${res.status}.`);
  return text;
}

/** A JSON object's fields, or undefined for anything else (not JSON, an array, a number). */
function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const isSeq = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/** Why no answer came, in words for the status: timed out, refused, dropped. */
function noAnswer(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) return signal.reason instanceof Error && signal.reason.name === 'TimeoutError' ? 'no answer in time' : 'stopped';
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const why = e.cause?.code ?? e.cause?.message ?? e.message;
  return `no answer (${why})`;
}
