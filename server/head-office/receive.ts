import crypto from 'node:crypto';
import type { Clock } from '../clock';
import type { Db, Trx } from '../db/knex';
import { GENESIS_HASH } from '../journal/hash';
import type { Logger } from '../logger';
import { entryLines, findBatch, findStore, heldHashes, insertBatch, insertEntries, lockStore, takeToken, updateStore, type StoreRow } from './queries';
import { openStoreSecret, signatureMatches } from './secrets';
import { decodeBatch } from './verify';

/**
 * The receiving side of ARCHITECTURE's "cloud ledger protocol" (issue 26). Each function answers
 * one request from the database alone: nothing is remembered between requests, so any number of
 * instances on one database answer alike, and two that receive the same store's batches at once
 * are put in line by the store's row lock (`lockStore`), never by anything in memory.
 */
export interface ReceiveDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  /** the service's SECRET_KEY, which unseals the stores' secrets */
  secretKey: string;
  rateLimit: RateLimit;
}

/** Requests per store: a bucket of `burst`, refilled at `perMinute`. */
export interface RateLimit {
  burst: number;
  perMinute: number;
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  /** seconds, for 429 */
  retryAfter?: number;
}

export interface BatchRequest {
  storeId: string;
  batchId: string;
  firstSeq: number;
  lastSeq: number;
  signature: string;
  /** the body's bytes exactly as sent, read only once the store is known and within its limit */
  body: () => Promise<Buffer>;
}

const unknownStore = (): Answer => ({ status: 404, body: { error: 'unknown-store' } });
const badSignature = (): Answer => ({ status: 401, body: { error: 'bad-signature' } });
const acked = (n: number): Answer => ({ status: 200, body: { ackedThrough: n } });

/** The store when it may use the protocol now: known, not revoked, within its rate limit. */
async function admit(deps: ReceiveDeps, storeId: string): Promise<{ store: StoreRow } | { answer: Answer }> {
  const store = await findStore(deps.db, storeId);
  if (!store) return { answer: unknownStore() };
  const { burst, perMinute } = deps.rateLimit;
  const left = await takeToken(deps.db, storeId, deps.clock.now(), burst, perMinute / 60);
  if (left < 0) return { answer: { status: 429, body: { error: 'rate-limited' }, retryAfter: Math.max(1, Math.ceil(60 / perMinute)) } };
  return { store };
}

/**
 * One batch: signature over the exact bytes, then every entry by itself (./verify.ts), then, in
 * one transaction holding the store's head row, the idempotency key, the chain's continuity with
 * what is held, and the append. Answers as the protocol says: 200 {ackedThrough}, 409
 * {expectedSeq}, 422 {error, atSeq}, 401 {error: "bad-signature"}.
 */
export async function receiveBatch(deps: ReceiveDeps, req: BatchRequest): Promise<Answer> {
  const { db, clock, log } = deps;
  const admitted = await admit(deps, req.storeId);
  if ('answer' in admitted) return admitted.answer;
  const { store } = admitted;
  const body = await req.body();
  if (store.revoked_at) return refused(deps, req, badSignature(), 'a batch for a revoked store');
  let secret: string;
  try {
    secret = openStoreSecret(deps.secretKey, store.secret_sealed);
  } catch {
    log.error({ storeId: req.storeId }, 'head office: a store secret cannot be unsealed (SECRET_KEY changed?)');
    return { status: 503, body: { error: 'the store secret cannot be read here' } };
  }
  if (!signatureMatches(secret, body, req.signature)) return refused(deps, req, badSignature(), 'a wrong signature');
  const sha = crypto.createHash('sha256').update(body).digest('hex');
  // a retry of a stored batch needs no verifying again: its row is final (append-only)
  const seen = await findBatch(db, req.storeId, req.batchId);
  if (seen) return replayed(deps, req, seen, sha);
  const decoded = await decodeBatch(body, req.firstSeq, req.lastSeq);
  if (!decoded.ok) return refused(deps, req, { status: decoded.status, body: { error: decoded.error, ...(decoded.atSeq !== undefined ? { atSeq: decoded.atSeq } : {}) } }, decoded.error);
  const entries = decoded.entries;
  const answer = await db.transaction(async (trx): Promise<Answer> => {
    const head = await lockStore(trx, req.storeId);
    if (!head) return unknownStore();
    if (head.revoked_at) return badSignature();
    // the same key from another instance, committed while this one waited for the lock
    const again = await findBatch(trx, req.storeId, req.batchId);
    if (again) return replayedAnswer(again, sha, req.firstSeq);
    const held = head.head_seq;
    if (req.firstSeq <= held) {
      // it overlaps what is held: the same entries (a retry under a new key, a race lost), or a fork
      const mine = await heldHashes(trx, req.storeId, req.firstSeq, Math.min(held, req.lastSeq));
      for (const h of mine) {
        const theirs = entries[h.seq - req.firstSeq];
        if (theirs.hash !== h.hash) return forked(trx, clock, req.storeId, h.seq, `The store sent a different entry ${h.seq} from the one the ledger holds.`);
      }
      return { status: 409, body: { expectedSeq: held + 1 } };
    }
    if (req.firstSeq > held + 1) return { status: 409, body: { expectedSeq: held + 1 } };
    if (entries[0].prevHash !== head.head_hash) {
      if (held === 0) return { status: 422, body: { error: `entry 1: its prev_hash is not ${GENESIS_HASH.slice(0, 8)}…, the start of a chain`, atSeq: 1 } };
      return forked(trx, clock, req.storeId, held, `The store's entry ${held} is not the one the ledger holds (entry ${held + 1} does not follow it).`);
    }
    const now = clock.now();
    const last = entries[entries.length - 1];
    await insertEntries(trx, req.storeId, req.batchId, entries);
    await insertBatch(trx, { store_id: req.storeId, batch_id: req.batchId, first_seq: req.firstSeq, last_seq: req.lastSeq, body_sha256: sha, acked_through: req.lastSeq, received_at: now });
    await updateStore(trx, req.storeId, { head_seq: last.seq, head_hash: last.hash, head_entry_at: last.at ? new Date(last.at) : head.head_entry_at, last_batch_at: now });
    return acked(req.lastSeq);
  });
  if (answer.status === 200) log.info({ storeId: req.storeId, first: req.firstSeq, last: req.lastSeq }, 'head office: batch stored');
  else if (answer.status === 409) log.info({ storeId: req.storeId, first: req.firstSeq, expectedSeq: answer.body.expectedSeq }, 'head office: batch not where the chain stands');
  else if (answer.status === 422 || answer.status === 401) return refused(deps, req, answer, String(answer.body.error));
  return answer;
}

function replayedAnswer(seen: { body_sha256: string; acked_through: number }, sha: string, firstSeq: number): Answer {
  if (seen.body_sha256 === sha) return acked(seen.acked_through);
  return { status: 422, body: { error: 'idempotency-key-reused: this batch id was stored with another body', atSeq: firstSeq } };
}

async function replayed(deps: ReceiveDeps, req: BatchRequest, seen: { body_sha256: string; acked_through: number }, sha: string): Promise<Answer> {
  const a = replayedAnswer(seen, sha, req.firstSeq);
  if (a.status === 200) {
    deps.log.info({ storeId: req.storeId, batchId: req.batchId }, 'head office: a stored batch sent again; answered as the first time');
    return a;
  }
  return refused(deps, req, a, String(a.body.error));
}

/** Records the fork in the store's row (the status page shows it), committed with the refusal. */
async function forked(trx: Trx, clock: Clock, storeId: string, atSeq: number, error: string): Promise<Answer> {
  await updateStore(trx, storeId, { fork_at_seq: atSeq, fork_error: error, fork_seen_at: clock.now() });
  return { status: 422, body: { error, atSeq } };
}

/** A refusal, logged and kept as the store's last one for the status page (nothing of the batch is stored). */
async function refused(deps: ReceiveDeps, req: BatchRequest, answer: Answer, why: string): Promise<Answer> {
  deps.log.warn({ storeId: req.storeId, batchId: req.batchId, first: req.firstSeq, last: req.lastSeq, status: answer.status, why }, 'head office: batch refused');
  await updateStore(deps.db, req.storeId, { last_refusal: `${answer.status}: ${why}`.slice(0, 500), last_refusal_at: deps.clock.now() }).catch((err: unknown) => deps.log.error({ err }, 'head office: could not note a refusal'));
  return answer;
}

/** `{ackedThrough, hash}`: what the ledger holds of the store. */
export async function readHead(deps: ReceiveDeps, storeId: string): Promise<Answer> {
  const admitted = await admit(deps, storeId);
  if ('answer' in admitted) return admitted.answer;
  return { status: 200, body: { ackedThrough: admitted.store.head_seq, hash: admitted.store.head_hash } };
}

/** Up to `limit` entries after `afterSeq` as NDJSON lines, or the answer that refuses. */
export async function readEntries(deps: ReceiveDeps, storeId: string, afterSeq: number, limit: number): Promise<Answer | string[]> {
  const admitted = await admit(deps, storeId);
  if ('answer' in admitted) return admitted.answer;
  return entryLines(deps.db, storeId, afterSeq, limit);
}
