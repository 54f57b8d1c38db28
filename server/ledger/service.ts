import type { Clock } from '../clock';
import type { Db, DbOrTrx, Trx } from '../db/knex';
import { audit } from '../audit/service';
import { conflict, invalid } from '../errors';
import { entryAt, journalHead } from '../journal/sync';
import { makeRoomForRestoredRecords } from '../orders/service';
import { BusinessSettings } from '../settings/schema';
import { getSettings } from '../settings/service';
import { getHead, type LedgerHead } from './protocol';
import { readState, recentBatches, restorePending, updateState, type BatchRow } from './queries';
import { hasSecret, secretProblem, storeSecret } from './secret';

export { LedgerShipper, ledgerBackoffMs, MAX_BACKOFF_MS } from './shipper';

/** Who changed something, for the audit log: staff on a terminal, or the box's command line. */
export interface LedgerActor {
  staffId?: number | null;
  approvedBy?: number | null;
  terminalId?: number | null;
  via: 'backoffice' | 'api' | 'cli';
}

/** A duration in staff words: "3 d 4 h", "2 h 5 min", "40 s". */
export function age(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export interface LedgerStatus {
  /** the URL and store id are set: the shipper runs */
  enabled: boolean;
  url: string;
  storeId: string;
  secretSet: boolean;
  journalHead: number;
  ackedThrough: number;
  /** entries written here and not yet acknowledged by the ledger */
  backlog: number;
  oldestUnshippedAt: Date | null;
  oldestAgeMs: number | null;
  /** the oldest unshipped entry is older than the alert setting (terminals show a banner) */
  backlogAlert: boolean;
  alertHours: number;
  lastSuccessAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  /** the last attempt failed: lastError is the current problem */
  failing: boolean;
  failures: number;
  nextAttemptAt: Date | null;
  headCheckedAt: Date | null;
  fork: { atSeq: number; error: string; at: Date } | null;
  restorePending: boolean;
  batches: BatchRow[];
}

export async function ledgerStatus(db: DbOrTrx, clock: Clock, opts: { batches?: number } = {}): Promise<LedgerStatus> {
  const [settings, state, head, secretSet] = await Promise.all([getSettings(db), readState(db), journalHead(db), hasSecret(db)]);
  const enabled = !!(settings.ledgerUrl && settings.ledgerStoreId);
  const backlog = Math.max(0, head.seq - state.acked_through);
  const oldest = backlog ? await entryAt(db, state.acked_through + 1) : undefined;
  const now = clock.now().getTime();
  const oldestAgeMs = oldest ? Math.max(0, now - oldest.createdAt.getTime()) : null;
  return {
    enabled,
    url: settings.ledgerUrl,
    storeId: settings.ledgerStoreId,
    secretSet,
    journalHead: head.seq,
    ackedThrough: state.acked_through,
    backlog,
    oldestUnshippedAt: oldest?.createdAt ?? null,
    oldestAgeMs,
    backlogAlert: enabled && oldestAgeMs !== null && oldestAgeMs > settings.ledgerAlertHours * 3600_000,
    alertHours: settings.ledgerAlertHours,
    lastSuccessAt: state.last_success_at,
    lastError: state.last_error,
    lastErrorAt: state.last_error_at,
    failing: state.attempts > 0 || (state.fork_at_seq !== null),
    failures: state.attempts,
    nextAttemptAt: enabled && state.fork_at_seq === null ? state.next_attempt_at : null,
    headCheckedAt: state.head_checked_at,
    fork: state.fork_at_seq !== null ? { atSeq: state.fork_at_seq, error: state.fork_error ?? '', at: state.fork_at! } : null,
    restorePending: state.restore_pending,
    batches: opts.batches ? await recentBatches(db, opts.batches) : [],
  };
}

/**
 * The guard a sale's close runs in its transaction (server/orders/tender.ts): after a start from
 * a restored backup, no receipt number is issued until the journal was compared with the
 * ledger's head, so none is issued twice. One row read by its key.
 */
export async function assertLedgerCompared(trx: Trx): Promise<void> {
  if (await restorePending(trx)) {
    throw conflict(
      'This store was restored from a backup and has not yet compared its journal with the cloud ledger, so the next receipt number could repeat one already issued. ' +
        'It is trying now: try again in a moment. If the ledger cannot be reached, the owner can allow sales on the Ledger page.',
      'ledger-restore-check',
    );
  }
}

/**
 * Marks a start after a restore (`start --after-restore`, or the restore command): sales wait
 * for a comparison with the ledger. Only with a ledger configured: without one there is nothing
 * to compare with. Returns whether the mark was set.
 */
export async function markRestored(db: Db): Promise<boolean> {
  const s = await getSettings(db);
  if (!s.ledgerUrl || !s.ledgerStoreId) return false;
  await db.transaction(async (trx) => {
    await updateState(trx, { restore_pending: true });
    await makeRoomForRestoredRecords(trx); // rows made here before the comparison never take an id the ledger's entries use
  });
  return true;
}

/** The owner's override when the ledger cannot be reached after a restore: sales go on, audited. */
export async function allowSalesBeforeComparing(db: Db, clock: Clock, who: LedgerActor): Promise<void> {
  await db.transaction(async (trx) => {
    const state = await readState(trx);
    if (!state.restore_pending) return;
    await updateState(trx, { restore_pending: false });
    await audit(trx, clock, {
      action: 'override', staffId: who.staffId, approvedBy: who.approvedBy, terminalId: who.terminalId,
      details: { ledger: 'sales allowed after a restore before the journal was compared with the cloud ledger', via: who.via, journalHead: (await journalHead(trx)).seq },
    });
  });
}

/** After a fork was looked into: shipping may try again (it compares heads first). Audited. */
export async function clearFork(db: Db, clock: Clock, who: LedgerActor): Promise<void> {
  await db.transaction(async (trx) => {
    const state = await readState(trx);
    if (state.fork_at_seq === null) return;
    await updateState(trx, { fork_at_seq: null, fork_error: null, fork_at: null, attempts: 0, next_attempt_at: null });
    await audit(trx, clock, {
      action: 'settings_changed', staffId: who.staffId, approvedBy: who.approvedBy, terminalId: who.terminalId,
      details: { ledger: { forkCleared: { atSeq: state.fork_at_seq, error: state.fork_error } }, via: who.via },
    });
  });
}

export interface LedgerConfigInput {
  ledgerUrl?: string;
  ledgerStoreId?: string;
  ledgerIntervalSeconds?: number;
  ledgerBatchSize?: number;
  ledgerAlertHours?: number;
  /** a new store secret; undefined or empty keeps the one set */
  secret?: string;
}

const KEYS = ['ledgerUrl', 'ledgerStoreId', 'ledgerIntervalSeconds', 'ledgerBatchSize', 'ledgerAlertHours'] as const;

/**
 * Sets the ledger's settings, validated by the settings' own schema, and a new store secret when
 * one is given, in one transaction with its audit record (the secret's value never in it).
 * Returns what changed, by name.
 */
export async function configureLedger(db: Db, clock: Clock, secretKey: string, input: LedgerConfigInput, who: LedgerActor): Promise<string[]> {
  const secret = input.secret?.trim() ? input.secret.trim() : undefined;
  return db.transaction(async (trx) => {
    const current = await getSettings(trx);
    const given = Object.fromEntries(KEYS.filter((k) => input[k] !== undefined).map((k) => [k, input[k]]));
    // every problem at once, each beside its field
    const parsed = BusinessSettings.safeParse({ ...current, ...given });
    const fields = parsed.success ? [] : parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message }));
    const problem = secret !== undefined ? secretProblem(secret) : undefined;
    if (problem) fields.push({ field: 'secret', message: problem });
    if (fields.length || !parsed.success) throw invalid(fields.map((f) => `${f.field}: ${f.message}`).join('; '), fields);
    const next = parsed.data;
    const changed: string[] = KEYS.filter((k) => next[k] !== current[k]);
    for (const k of changed) {
      await trx('settings').insert({ key: k, value: JSON.stringify(next[k as keyof BusinessSettings]), updated_at: clock.now() }).onConflict('key').merge();
    }
    if (secret !== undefined) {
      await storeSecret(trx, clock, secretKey, secret);
      changed.push('secret');
    }
    if (changed.length) {
      await audit(trx, clock, {
        action: 'settings_changed', staffId: who.staffId, approvedBy: who.approvedBy, terminalId: who.terminalId,
        details: {
          ...Object.fromEntries(changed.filter((k) => k !== 'secret').map((k) => [k, { from: current[k as keyof BusinessSettings], to: next[k as keyof BusinessSettings] }])),
          ...(secret !== undefined ? { ledgerSecret: 'set (not recorded)' } : {}),
          via: who.via,
        },
      });
    }
    return changed;
  });
}

export interface HeadComparison {
  journal: number;
  ledger: LedgerHead;
  /** in-step: the ledger's last entry is ours (or it holds nothing); behind: a backlog; ahead: it holds entries we lack; fork: its entry differs */
  verdict: 'in-step' | 'behind' | 'ahead' | 'fork';
  message: string;
}

/** `ledger-verify`'s second half: the ledger's head beside the journal's, changing nothing. */
export async function compareWithLedger(db: Db, timeoutMs = 15_000): Promise<HeadComparison> {
  const s = await getSettings(db);
  if (!s.ledgerUrl || !s.ledgerStoreId) throw conflict('No cloud ledger is set (URL and store id): nothing to compare with.', 'ledger-off');
  const ledger = await getHead({ url: s.ledgerUrl, storeId: s.ledgerStoreId }, AbortSignal.timeout(timeoutMs));
  const head = await journalHead(db);
  const n = ledger.ackedThrough;
  if (n > head.seq) {
    return { journal: head.seq, ledger, verdict: 'ahead', message: `the ledger holds ${n} entries, the journal ${head.seq}: ${n - head.seq} to pull (a restored backup?)` };
  }
  if (n > 0 && (await entryAt(db, n))?.hash !== ledger.hash) {
    return { journal: head.seq, ledger, verdict: 'fork', message: `the ledger's entry ${n} is not the journal's entry ${n}: the chains differ` };
  }
  if (n === head.seq) return { journal: head.seq, ledger, verdict: 'in-step', message: `the ledger holds all ${n} entries; its last hash is the journal's` };
  return { journal: head.seq, ledger, verdict: 'behind', message: `the ledger holds ${n} of ${head.seq} entries (its last hash is the journal's); ${head.seq - n} not yet shipped` };
}
