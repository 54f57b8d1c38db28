import type { Clock } from '../clock';
import type { Db } from '../db/knex';
import { AppError } from '../errors';

/**
 * The one limiter for guessing a secret: a PIN at login or override, a pairing code.
 *
 * Each thing guarded is a row (`attempt_guards`): a terminal, the staff member asking for
 * overrides, the store's pairing. An attempt is claimed under every key it concerns in one
 * transaction that locks those rows, checks them and counts, *before* the secret is evaluated:
 * so 300 parallel guesses get at most `max` evaluations, not one each. Afterwards the claim is
 * settled: a right secret gives back only its own claim (it never resets what others failed), a
 * wrong one may start a lockout. Lockouts double from a minute up to a cap, and both counts
 * decay when nobody fails for a while.
 */
export interface GuardKey {
  key: string;
  /** wrong secrets within a window before the key locks */
  max: number;
}

export const FIRST_LOCK_MS = 60_000;
export const LOCK_CAP_MS = 15 * 60_000;
/** a window of attempts ends after this long without one */
export const ATTEMPTS_DECAY_MS = 15 * 60_000;
/** the doubling starts again after this long without an attempt */
export const LOCKOUTS_DECAY_MS = 24 * 3600_000;

export const terminalKey = (terminalId: number): GuardKey => ({ key: `terminal:${terminalId}`, max: 5 });
export const overrideByKey = (staffId: number): GuardKey => ({ key: `staff:${staffId}`, max: 5 });
export const PAIRING_KEY: GuardKey = { key: 'pairing', max: 20 };

/** Refused before the secret was looked at: locked, or the window's attempts are all in flight. */
export class AttemptRefused extends AppError {
  constructor(readonly retryAfterSeconds: number, locked: boolean) {
    super(
      locked ? 423 : 429,
      locked ? 'locked' : 'rate-limited',
      locked
        ? `Too many wrong attempts. Try again in ${retryAfterSeconds} seconds.`
        : 'Too many attempts at once. Wait a moment and try again.',
      { retryAfter: retryAfterSeconds },
    );
  }
}

export interface Claim {
  keys: GuardKey[];
}

/** The lock a key gets at its `lockouts`-th lockout (0 for the first): doubling, capped. */
export function lockMs(lockouts: number): number {
  return Math.min(LOCK_CAP_MS, FIRST_LOCK_MS * 2 ** Math.min(lockouts, 20));
}

interface GuardRow {
  key: string;
  attempts: number;
  lockouts: number;
  locked_until: Date | null;
  last_attempt_at: Date | null;
}

/** Claims one attempt under every key, or throws AttemptRefused having counted nothing. */
export async function claimAttempt(db: Db, clock: Clock, keys: GuardKey[]): Promise<Claim> {
  const now = clock.now();
  const t = now.getTime();
  await db.transaction(async (trx) => {
    await trx('attempt_guards').insert(keys.map((k) => ({ key: k.key }))).onConflict('key').ignore();
    const rows: GuardRow[] = await trx('attempt_guards').whereIn('key', keys.map((k) => k.key)).orderBy('key').forUpdate();
    const next = rows.map((row) => {
      const max = keys.find((k) => k.key === row.key)!.max;
      if (row.locked_until && row.locked_until.getTime() > t) throw new AttemptRefused(Math.ceil((row.locked_until.getTime() - t) / 1000), true);
      const quiet = !row.last_attempt_at || t - row.last_attempt_at.getTime() > ATTEMPTS_DECAY_MS;
      const attempts = quiet || row.locked_until ? 0 : row.attempts; // a lock that ended starts a new window
      if (attempts >= max) throw new AttemptRefused(5, false);
      const forgiven = !row.last_attempt_at || t - row.last_attempt_at.getTime() > LOCKOUTS_DECAY_MS;
      return { key: row.key, attempts: attempts + 1, lockouts: forgiven ? 0 : row.lockouts };
    });
    for (const n of next) {
      await trx('attempt_guards').where({ key: n.key }).update({ attempts: n.attempts, lockouts: n.lockouts, locked_until: null, last_attempt_at: now });
    }
  });
  return { keys };
}

/** The secret was right: give back this attempt's claim, and nothing more. */
export async function attemptSucceeded(db: Db, claim: Claim): Promise<void> {
  await db('attempt_guards').whereIn('key', claim.keys.map((k) => k.key)).update({ attempts: db.raw('greatest(attempts - 1, 0)') });
}

/**
 * The secret was wrong: the claim stays counted; a key whose window is used up locks.
 * Returns the longest lock started, in seconds, if any.
 */
export async function attemptFailed(db: Db, clock: Clock, claim: Claim): Promise<number | undefined> {
  const now = clock.now();
  let longest: number | undefined;
  await db.transaction(async (trx) => {
    const rows: GuardRow[] = await trx('attempt_guards').whereIn('key', claim.keys.map((k) => k.key)).orderBy('key').forUpdate();
    for (const row of rows) {
      const max = claim.keys.find((k) => k.key === row.key)!.max;
      if (row.attempts < max || row.locked_until) continue;
      const ms = lockMs(row.lockouts);
      longest = Math.max(longest ?? 0, ms / 1000);
      await trx('attempt_guards').where({ key: row.key }).update({ locked_until: new Date(now.getTime() + ms), lockouts: row.lockouts + 1 });
    }
  });
  return longest;
}
