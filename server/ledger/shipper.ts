import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import type { Logger } from '../logger';
import { listEntries } from '../journal/service';
import { AdoptError, adoptEntries, entryAt, journalHead } from '../journal/sync';
import { replayEntries } from '../orders/service';
import { getSettings } from '../settings/service';
import { encodeBatch, type EncodedBatch } from './encode';
import { getEntries, getHead, postBatch, type LedgerHead, type LedgerTarget } from './protocol';
import { insertBatch, openBatch, readState, updateBatch, updateState, type BatchRow } from './queries';
import { readSecret } from './secret';

export interface ShipperOptions {
  db: Db;
  clock: Clock;
  log: Logger;
  /** the server's SECRET_KEY, which unseals the store secret (./secret.ts) */
  secretKey: string;
  /** how often to look whether a cycle is due (real time; due times are the clock's); default 1 s */
  pollMs?: number;
  /** how long one request to the ledger may take; default 30 s */
  timeoutMs?: number;
  /** the jitter's random source (tests pin it) */
  random?: () => number;
  timers?: { setInterval: typeof setInterval; clearInterval: typeof clearInterval };
}

/** The backoff's cap: a ledger back after a week's outage is tried again within ten minutes. */
export const MAX_BACKOFF_MS = 600_000;

/** Retry delays after failures in a row: 2 s, 4 s, 8 s … ±20 % jitter, capped at MAX_BACKOFF_MS. */
export function ledgerBackoffMs(failures: number, random = Math.random): number {
  const base = 2000 * 2 ** Math.min(20, Math.max(0, failures - 1));
  return Math.min(MAX_BACKOFF_MS, Math.round(base * (0.8 + 0.4 * random())));
}

/** A cycle that ends in a failure the backoff retries (the ledger down, a refused signature…). */
class ShipFailure extends Error {}

/** 409s in one cycle before the ledger counts as confused and the cycle as failed. */
const MAX_409_PER_CYCLE = 5;

/**
 * Ships the journal to the cloud ledger (ARCHITECTURE, "The cloud ledger protocol"; issue 25).
 * The journal is the queue: the next contiguous range after the acknowledged mark, at most the
 * batch-size setting, is one batch; a batch row, committed before its first POST, gives the
 * range its id (the Idempotency-Key of every retry, also after a crash), and the range is sent
 * again as it was until the ledger answers for it.
 *
 * A cycle runs every ledgerIntervalSeconds (on the injected clock), after failures on the
 * backoff instead, and on demand (`shipNow`). It compares heads first when it has not since the
 * start, when the target changed or a restore waits for it, and whenever the backlog is empty:
 * a ledger ahead of the journal (a restored backup) is pulled, verified and appended. While
 * there is a backlog it sends batch after batch without waiting. 2xx moves the mark; 409 moves
 * it to expectedSeq − 1; 422 records a fork and shipping stops until someone looks; anything
 * else is a failure retried without end.
 *
 * It never touches a sale: it runs outside every transaction but its own short ones, reads the
 * journal and never writes a journal row but those it pulls, and runs only when the ledger URL
 * and store id are set.
 */
export class LedgerShipper {
  private nextAt = Number.NEGATIVE_INFINITY;
  private compared = false;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private controller = new AbortController();

  constructor(private readonly o: ShipperOptions) {}

  start(): void {
    const timers = this.o.timers ?? { setInterval, clearInterval };
    this.timer = timers.setInterval(() => void this.tick(), this.o.pollMs ?? 1000);
    this.timer.unref?.();
    void this.tick();
  }

  /** A cycle if one is due. */
  tick(): Promise<void> {
    if (this.stopped || this.o.clock.now().getTime() < this.nextAt) return this.running ?? Promise.resolve();
    return this.run();
  }

  /** A cycle now, whatever the backoff says ("Ship now"); resolves when it has run. */
  shipNow(): Promise<void> {
    return this.run();
  }

  /** The ledger's settings changed: compare heads again, now. */
  reconfigured(): Promise<void> {
    this.compared = false;
    return this.run();
  }

  /** Resolves once no cycle is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) (this.o.timers ?? { setInterval, clearInterval }).clearInterval(this.timer);
    this.controller.abort();
    await this.idle();
  }

  private run(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.cycle().catch((err) => {
            // the database itself failing, most likely: look again in a while, not at every poll
            this.nextAt = this.now().getTime() + 10_000;
            this.o.log.error({ err }, 'ledger: a cycle failed unexpectedly');
          });
        } while (this.again && !this.stopped);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private now(): Date {
    return this.o.clock.now();
  }

  private signal(): AbortSignal {
    return AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.o.timeoutMs ?? 30_000)]);
  }

  private async cycle(): Promise<void> {
    const { db } = this.o;
    const s = await getSettings(db);
    const intervalMs = s.ledgerIntervalSeconds * 1000;
    if (!s.ledgerUrl || !s.ledgerStoreId) {
      this.nextAt = this.now().getTime() + intervalMs;
      return;
    }
    const target: LedgerTarget = { url: s.ledgerUrl, storeId: s.ledgerStoreId };
    const key = `${s.ledgerUrl} ${s.ledgerStoreId}`;
    const state = await readState(db);
    if (state.fork_at_seq !== null) {
      // stopped: nothing is sent or pulled until someone has looked (clearFork)
      this.nextAt = this.now().getTime() + intervalMs;
      return;
    }
    try {
      const secret = await readSecret(db, this.o.secretKey);
      if (!secret) throw new ShipFailure('No store secret is set: set it on the Ledger page.');
      let compared = false;
      if (!this.compared || state.target !== key || state.restore_pending) {
        if ((await this.compareHeads(target, key, s.ledgerBatchSize)) === 'fork') return;
        compared = this.compared = true;
      }
      if ((await this.ship(target, key, secret, s.ledgerBatchSize)) === 'fork') return;
      // nothing left to send: is the ledger ahead of us?
      if (!compared && (await this.compareHeads(target, key, s.ledgerBatchSize)) === 'fork') return;
      const next = new Date(this.now().getTime() + intervalMs);
      await updateState(db, { attempts: 0, next_attempt_at: next });
      this.nextAt = next.getTime();
    } catch (err) {
      if (this.stopped) return;
      await this.failed(err instanceof Error ? err.message : String(err));
    }
  }

  private async failed(error: string): Promise<void> {
    const at = this.now();
    const state = await readState(this.o.db);
    const attempts = state.attempts + 1;
    const next = new Date(at.getTime() + ledgerBackoffMs(attempts, this.o.random));
    await updateState(this.o.db, { attempts, last_error: error, last_error_at: at, next_attempt_at: next });
    this.nextAt = next.getTime();
    this.o.log.warn({ error, attempts, nextAttemptAt: next.toISOString() }, 'ledger: shipping failed; will retry');
  }

  private async forked(atSeq: number | null, error: string): Promise<'fork'> {
    const at = this.now();
    await updateState(this.o.db, { fork_at_seq: atSeq ?? 0, fork_error: error, fork_at: at, last_error: error, last_error_at: at, next_attempt_at: null });
    this.o.log.error({ atSeq, error }, 'ledger: the cloud ledger holds a different entry; shipping stopped');
    return 'fork';
  }

  /**
   * Learns the mark from the ledger's head. At or behind the journal, the ledger's last entry must
   * be ours (else a fork); ahead of it (a restored backup), its entries beyond ours are pulled,
   * verified and appended before the mark moves, and the restore flag is cleared only then.
   */
  private async compareHeads(target: LedgerTarget, key: string, pageSize: number): Promise<'ok' | 'fork'> {
    const { db } = this.o;
    const ledger = await getHead(target, this.signal());
    const local = await journalHead(db);
    if (ledger.ackedThrough <= local.seq) {
      if (ledger.ackedThrough > 0) {
        const mine = await entryAt(db, ledger.ackedThrough);
        if (mine?.hash !== ledger.hash) return this.forked(ledger.ackedThrough, `The cloud ledger's entry ${ledger.ackedThrough} is not this store's entry ${ledger.ackedThrough}.`);
      }
    } else if ((await this.pull(target, local, ledger, pageSize)) === 'fork') {
      return 'fork';
    }
    const at = this.now();
    await updateState(db, { target: key, acked_through: ledger.ackedThrough, head_checked_at: at, restore_pending: false, last_success_at: at });
    return 'ok';
  }

  private async pull(target: LedgerTarget, local: { seq: number; hash: string }, ledger: LedgerHead, pageSize: number): Promise<'ok' | 'fork'> {
    let after = local.seq;
    let prevHash = local.hash;
    this.o.log.warn({ journal: local.seq, ledger: ledger.ackedThrough }, 'ledger: the cloud ledger is ahead of the journal (a restored backup?); pulling what it holds beyond');
    while (after < ledger.ackedThrough) {
      const entries = await getEntries(target, after, Math.min(pageSize, ledger.ackedThrough - after), this.signal());
      if (!entries.length) throw new ShipFailure(`The cloud ledger says it holds ${ledger.ackedThrough} entries but sent none after ${after}.`);
      if (entries[0].seq === after + 1 && entries[0].prev_hash !== prevHash) {
        return this.forked(after, `The cloud ledger's entry ${after + 1} does not follow this store's entry ${after}.`);
      }
      try {
        await this.o.db.transaction(async (trx) => {
          await adoptEntries(trx, entries);
          // the orders, payments and refunds the backup lacked, from the entries' records: reports agree with the journal again
          const replay = await replayEntries(trx, entries);
          if (replay.skipped.length) this.o.log.warn({ skipped: replay.skipped.slice(0, 20), count: replay.skipped.length }, 'ledger: entries taken into the journal whose records could not be rebuilt as orders (reports miss them)');
        });
      } catch (err) {
        if (!(err instanceof AdoptError)) throw err;
        // a sale here took the number the ledger's entry has: two chains
        if ((await journalHead(this.o.db)).seq !== after) return this.forked(after + 1, `This store's journal went on while it pulled the cloud ledger's entries: both hold an entry ${after + 1}.`);
        throw new ShipFailure(`The cloud ledger sent an entry that does not verify (${err.message}); nothing was taken.`);
      }
      const last = entries[entries.length - 1];
      after = last.seq;
      prevHash = last.hash;
    }
    if (prevHash !== ledger.hash) throw new ShipFailure(`The cloud ledger's entries end in another hash than its head says.`);
    this.o.log.warn({ pulled: ledger.ackedThrough - local.seq, journal: ledger.ackedThrough }, 'ledger: pulled and verified the entries the journal lacked');
    return 'ok';
  }

  /** Sends batch after batch while there is a backlog. */
  private async ship(target: LedgerTarget, key: string, secret: string, batchSize: number): Promise<'done' | 'fork'> {
    const { db, log } = this.o;
    let conflicts = 0;
    // the next range, read and encoded while the ledger answers for this one (a catch-up then
    // costs the slower of the two sides, not their sum); used only if it starts where the mark lands
    let ahead: Promise<EncodedBatch | undefined> | undefined;
    while (!this.stopped) {
      const head = await journalHead(db);
      const mark = (await readState(db)).acked_through;
      if (head.seq <= mark) return 'done';
      const { batch, encoded } = await this.nextBatch(key, mark, head.seq, batchSize, ahead);
      ahead = batch.last_seq < head.seq ? this.encodeRange(batch.last_seq, batchSize).catch(() => undefined) : undefined;
      const outcome = await postBatch(target, secret, batch.id, encoded, this.signal());
      if (this.stopped) return 'done';
      const at = this.now();
      const tried = { attempts: batch.attempts + 1, last_status: outcome.status, last_attempt_at: at };
      switch (outcome.kind) {
        case 'acked': {
          const n = outcome.ackedThrough;
          if (n < batch.first_seq) {
            await updateBatch(db, batch.id, { ...tried, last_error: `acknowledged only up to ${n}` });
            throw new ShipFailure(`The cloud ledger acknowledged a batch from ${batch.first_seq} only up to ${n}.`);
          }
          await db.transaction(async (trx) => {
            await updateBatch(trx, batch.id, { ...tried, state: 'acked', last_error: null, acked_through: n, acked_at: at });
            await updateState(trx, { acked_through: n, attempts: 0, last_success_at: at });
          });
          log.debug({ first: batch.first_seq, last: batch.last_seq, ackedThrough: n }, 'ledger: batch acknowledged');
          if (n > head.seq) this.compared = false; // the ledger holds more than we do: compare heads next
          break;
        }
        case 'expected': {
          const m = outcome.expectedSeq;
          await updateBatch(db, batch.id, { ...tried, state: 'superseded', last_error: `the ledger expects ${m}` });
          if (m === batch.first_seq || ++conflicts > MAX_409_PER_CYCLE) throw new ShipFailure(`The cloud ledger answers 409 expecting ${m}, but that is where the batch began.`);
          log.info({ sent: batch.first_seq, expectedSeq: m }, 'ledger: the ledger expects another range; resending from there');
          await updateState(db, { acked_through: m - 1 });
          if (m - 1 > head.seq) {
            this.compared = false;
            return 'done';
          }
          break;
        }
        case 'fork':
          await updateBatch(db, batch.id, { ...tried, last_error: outcome.error });
          return this.forked(outcome.atSeq, `The cloud ledger holds a different entry${outcome.atSeq !== null ? ` at ${outcome.atSeq}` : ''}: ${outcome.error}`);
        default:
          await updateBatch(db, batch.id, { ...tried, last_error: outcome.error });
          throw new ShipFailure(outcome.error);
      }
    }
    return 'done';
  }

  private async encodeRange(after: number, batchSize: number): Promise<EncodedBatch> {
    return encodeBatch(await listEntries(this.o.db, after, batchSize));
  }

  /** The open batch again when it still starts at the mark (same id, same range), else a new one, committed before it is sent. */
  private async nextBatch(key: string, mark: number, headSeq: number, batchSize: number, ahead?: Promise<EncodedBatch | undefined>): Promise<{ batch: BatchRow; encoded: EncodedBatch }> {
    const { db } = this.o;
    const open = await openBatch(db);
    if (open && open.target === key && open.first_seq === mark + 1 && open.last_seq <= headSeq) {
      return { batch: open, encoded: await encodeBatch(await listEntries(db, mark, open.last_seq - mark)) };
    }
    const prepared = await ahead;
    const encoded = prepared?.firstSeq === mark + 1 ? prepared : await this.encodeRange(mark, batchSize);
    const batch = await db.transaction(async (trx) => {
      if (open) await updateBatch(trx, open.id, { state: 'superseded', last_error: open.last_error ?? 'the ledger stood elsewhere' });
      return insertBatch(trx, {
        target: key, first_seq: encoded.firstSeq, last_seq: encoded.lastSeq, last_hash: encoded.lastHash,
        body_sha256: encoded.bodySha256, bytes: encoded.body.length, created_at: this.now(),
      });
    });
    return { batch, encoded };
  }
}
