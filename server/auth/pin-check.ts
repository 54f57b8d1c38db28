import { AppError } from '../errors';
import { audit } from '../audit/service';
import { attemptFailed, attemptSucceeded, claimAttempt, overrideByKey, terminalKey, type Claim } from './attempts';
import { roleCan, type Permission } from './permissions';
import { isValidPin, pinLookup, verifyPin } from './pin';
import { lookupKey, type AuthDeps, type Staff } from './service';

/** After this many times someone else typed a member's PIN where it could not act, an owner must set a new one. */
export const MISUSES_BEFORE_RESET = 3;

/** The refusals name nobody: whose PIN it was is for the audit log, not for the terminal. */
const wrongPin = () => new AppError(401, 'wrong-pin', 'That PIN is not right.');
const overrideRefused = () => new AppError(403, 'override-refused', 'That PIN cannot approve this. Ask a manager to enter theirs.');
const pinBlocked = () => new AppError(403, 'pin-blocked', 'That PIN is blocked: an owner must set a new one in the back office.');
const lockedFor = (seconds: number) =>
  new AppError(423, 'locked', `Too many wrong PINs on this terminal. Try again in ${seconds} seconds.`, { retryAfter: seconds });

type StaffRow = Staff & { pin_hash: string; pin_reset_required: boolean };

/** The active staff member whose PIN this is, found by its keyed lookup and verified by its slow hash. */
async function staffWithPin(deps: AuthDeps, pin: string): Promise<StaffRow | undefined> {
  if (!isValidPin(pin)) return undefined;
  const key = await lookupKey(deps.db, deps.clock);
  const row: StaffRow | undefined = await deps.db('staff').where({ pin_lookup: pinLookup(pin, key), active: true }).first();
  return row && (await verifyPin(pin, row.pin_hash)) ? row : undefined;
}

const asStaff = (r: StaffRow): Staff => ({ id: r.id, name: r.name, role: r.role, active: r.active });

/**
 * A PIN typed at the login screen. The attempt is claimed on the terminal's guard before the
 * PIN is looked at (./attempts.ts); every failure is audited on its own, outside any transaction.
 */
export async function checkLoginPin(deps: AuthDeps, terminalId: number, pin: string): Promise<Staff> {
  const claim = await claimAttempt(deps.db, deps.clock, [terminalKey(terminalId)]);
  const staff = await staffWithPin(deps, pin);
  if (staff && !staff.pin_reset_required) {
    await attemptSucceeded(deps.db, claim);
    return asStaff(staff);
  }
  if (staff) {
    await attemptSucceeded(deps.db, claim); // the holder's own PIN: no guess, but no way in
    await audit(deps.db, deps.clock, { action: 'pin_failed', staffId: staff.id, terminalId, details: { reason: 'PIN blocked until an owner sets a new one' } });
    throw pinBlocked();
  }
  throw await failed(deps, claim, terminalId, { action: 'pin_failed' }, wrongPin());
}

/**
 * A manager's PIN typed into the approval dialog by `actor` for `permission`. Claimed on the
 * terminal's guard and on the actor's own (so moving to another terminal does not start afresh).
 * A PIN that cannot approve this — wrong, the actor's own, or someone's without the permission —
 * is one failure like any other, with one refusal text. When it was a colleague's real PIN, that
 * colleague's PIN is known to someone else: after MISUSES_BEFORE_RESET times it is blocked until
 * an owner sets a new one.
 */
export async function checkOverridePin(deps: AuthDeps, terminalId: number, actor: Staff, pin: string, permission: Permission): Promise<Staff> {
  const claim = await claimAttempt(deps.db, deps.clock, [terminalKey(terminalId), overrideByKey(actor.id)]);
  const approver = await staffWithPin(deps, pin);
  if (approver && !approver.pin_reset_required && approver.id !== actor.id && roleCan(approver.role, permission)) {
    await attemptSucceeded(deps.db, claim);
    return asStaff(approver);
  }
  let reason = 'wrong PIN';
  if (approver?.pin_reset_required) reason = 'PIN blocked until an owner sets a new one';
  else if (approver?.id === actor.id) reason = 'own PIN';
  else if (approver) reason = await misused(deps, approver, terminalId);
  throw await failed(deps, claim, terminalId, { action: 'override_failed', staffId: actor.id, approvedBy: approver?.id ?? null, details: { permission, reason } }, overrideRefused());
}

async function misused(deps: AuthDeps, owner: StaffRow, terminalId: number): Promise<string> {
  const [row] = await deps.db('staff').where({ id: owner.id }).increment('pin_misuses', 1).returning(['pin_misuses']);
  if (row.pin_misuses < MISUSES_BEFORE_RESET) return 'approver lacks the permission';
  await deps.db('staff').where({ id: owner.id }).update({ pin_reset_required: true });
  await audit(deps.db, deps.clock, { action: 'pin_blocked', staffId: owner.id, terminalId, details: { misuses: row.pin_misuses } });
  return 'approver lacks the permission; their PIN is now blocked';
}

/** Settles a failed claim, audits it (and the lockout it may start), and gives the error to throw. */
async function failed(
  deps: AuthDeps,
  claim: Claim,
  terminalId: number,
  a: { action: 'pin_failed' | 'override_failed'; staffId?: number; approvedBy?: number | null; details?: Record<string, unknown> },
  refusal: AppError,
): Promise<AppError> {
  const lockSeconds = await attemptFailed(deps.db, deps.clock, claim);
  await audit(deps.db, deps.clock, { action: a.action, staffId: a.staffId, approvedBy: a.approvedBy, terminalId, details: a.details });
  if (lockSeconds === undefined) {
    // how many more wrong PINs before a lock, so the screen can warn (issue 20)
    const rows: Array<{ key: string; attempts: number }> = await deps.db('attempt_guards').whereIn('key', claim.keys.map((k) => k.key)).select('key', 'attempts');
    const triesLeft = Math.min(...rows.map((r) => claim.keys.find((k) => k.key === r.key)!.max - r.attempts));
    return Number.isFinite(triesLeft) ? new AppError(refusal.status, refusal.id, refusal.message, { ...refusal.details, triesLeft: Math.max(0, triesLeft) }) : refusal;
  }
  await audit(deps.db, deps.clock, { action: 'lockout', staffId: a.staffId, terminalId, details: { seconds: lockSeconds, guards: claim.keys.map((k) => k.key) } });
  return lockedFor(lockSeconds);
}
