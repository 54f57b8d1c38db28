import crypto from 'node:crypto';
import { AppError, invalid } from '../errors';
import { audit } from '../audit/service';
import { attemptFailed, attemptSucceeded, claimAttempt, PAIRING_KEY } from './attempts';
import { pinLookup } from './pin';
import { createTerminal, lookupKey, type AuthDeps, type DeviceCredential, type Terminal, type TerminalKind } from './service';

export const PAIRING_TTL_MS = 10 * 60_000;
/** A wrong code is a guess at every open code; each open code dies after this many. */
export const PAIRING_CODE_MAX_FAILURES = 5;

const pairingFailed = () =>
  new AppError(403, 'pairing-failed', 'That code is not valid: it may be mistyped, used already or expired. Ask a manager for a new one.');

/** A one-time 6-digit code, valid 10 minutes, that pairs one new browser as `name`. */
export async function createPairingCode(deps: AuthDeps, input: { name: string; kind: TerminalKind }, by: { staffId: number | null; terminalId: number | null }) {
  const key = await lookupKey(deps.db, deps.clock);
  for (;;) {
    const code = String(crypto.randomInt(0, 1_000_000)).padStart(6, '0');
    const hash = pinLookup(code, key);
    const clash = await openCodes(deps).where({ code_hash: hash }).first();
    if (clash) continue;
    const now = deps.clock.now();
    await deps.db('pairing_codes').insert({
      code_hash: hash, terminal_name: input.name, kind: input.kind, created_by: by.staffId, created_at: now, expires_at: new Date(now.getTime() + PAIRING_TTL_MS),
    });
    await audit(deps.db, deps.clock, { action: 'pairing_code_created', staffId: by.staffId, terminalId: by.terminalId, details: { name: input.name, kind: input.kind } });
    return { code, expiresAt: new Date(now.getTime() + PAIRING_TTL_MS) };
  }
}

/** Codes that can still pair: unused, unexpired, not worn out by wrong guesses. */
const openCodes = (deps: AuthDeps) =>
  deps.db('pairing_codes').whereNull('used_at').where('expires_at', '>', deps.clock.now()).where('failures', '<', PAIRING_CODE_MAX_FAILURES);

/**
 * Redeems a pairing code once: a new terminal and its device credential. Each try is claimed on
 * the store's pairing guard first (the same limiter as PINs, ./attempts.ts); a wrong code counts
 * against every open code, and is audited after its transaction, so the record stays.
 */
export async function pairWithCode(deps: AuthDeps, code: string): Promise<{ terminal: Terminal; credential: DeviceCredential }> {
  if (!/^\d{6}$/.test(code)) throw invalid('The pairing code is 6 digits.', [{ field: 'code', message: 'must be 6 digits' }]);
  const key = await lookupKey(deps.db, deps.clock);
  const claim = await claimAttempt(deps.db, deps.clock, [PAIRING_KEY]);
  const made = await deps.db.transaction(async (trx) => {
    const row = await trx('pairing_codes').where({ code_hash: pinLookup(code, key) }).orderBy('id', 'desc').forUpdate().first();
    const open = row && !row.used_at && row.expires_at.getTime() > deps.clock.now().getTime() && row.failures < PAIRING_CODE_MAX_FAILURES;
    if (!open) return { refused: row ? (row.used_at ? 'used' : row.failures >= PAIRING_CODE_MAX_FAILURES ? 'too many wrong codes' : 'expired') : 'unknown' };
    const m = await createTerminal(trx, deps.clock, row.terminal_name, row.kind, row.created_by);
    await trx('pairing_codes').where({ id: row.id }).update({ used_at: deps.clock.now(), terminal_id: m.terminal.id });
    await audit(trx, deps.clock, { action: 'terminal_paired', staffId: row.created_by, terminalId: m.terminal.id, details: { name: row.terminal_name, kind: row.kind } });
    return { made: m };
  });
  if (made.made) {
    await attemptSucceeded(deps.db, claim);
    return made.made;
  }
  const worn = await openCodes(deps).increment('failures', 1).returning(['id', 'failures']);
  const died = worn.filter((r: { failures: number }) => r.failures >= PAIRING_CODE_MAX_FAILURES).length;
  const lockSeconds = await attemptFailed(deps.db, deps.clock, claim);
  await audit(deps.db, deps.clock, { action: 'pairing_failed', details: { reason: made.refused, codesWorn: worn.length, codesDied: died } });
  if (lockSeconds !== undefined) {
    await audit(deps.db, deps.clock, { action: 'lockout', details: { seconds: lockSeconds, guards: [PAIRING_KEY.key] } });
    throw new AppError(423, 'locked', `Too many wrong pairing codes. Try again in ${lockSeconds} seconds.`, { retryAfter: lockSeconds });
  }
  throw pairingFailed();
}
