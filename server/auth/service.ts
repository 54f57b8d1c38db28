import crypto from 'node:crypto';
import type { Clock } from '../clock';
import type { Db, DbOrTrx } from '../db/knex';
import { conflict, forbidden, invalid, notFound, unprocessable } from '../errors';
import { audit } from '../audit/service';
import { getOrCreateSecret } from '../settings/service';
import { hashPin, isValidPin, pinLookup } from './pin';
import { roleRank, type Role } from './permissions';

export type TerminalKind = 'counter' | 'waiter' | 'kitchen' | 'back_office' | 'kiosk';
export const TERMINAL_KINDS: TerminalKind[] = ['counter', 'waiter', 'kitchen', 'back_office', 'kiosk'];

export interface Terminal {
  id: number;
  name: string;
  kind: TerminalKind;
  /** the printer its receipts go to (server/printing/); none: the browser's print dialog */
  receipt_printer_id: number | null;
  default_station_id: number | null;
  revoked_at: Date | null;
  /** when the terminal was last seen, written at most daily (a terminal unseen too long must pair again) */
  last_seen_at: Date | null;
}

export interface Staff {
  id: number;
  name: string;
  role: Role;
  active: boolean;
}

export interface AuthDeps {
  db: Db;
  clock: Clock;
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
/** The key of the PIN (and pairing code) lookup HMAC, made on first use. */
export const lookupKey = (db: DbOrTrx, clock: Clock) => getOrCreateSecret(db, clock, 'pin-lookup', () => crypto.randomBytes(32).toString('hex'));

// ---- terminals and pairing -------------------------------------------------------------

/** A device credential: the terminal id and a random secret; only its hash is stored. */
export interface DeviceCredential {
  terminalId: number;
  secret: string;
}
export const encodeDevice = (c: DeviceCredential) => `${c.terminalId}.${c.secret}`;
export function decodeDevice(v: string | undefined): DeviceCredential | undefined {
  const m = /^(\d{1,15})\.([A-Za-z0-9_-]{20,100})$/.exec(v ?? '');
  return m ? { terminalId: Number(m[1]), secret: m[2] } : undefined;
}

export async function createTerminal(trx: DbOrTrx, clock: Clock, name: string, kind: TerminalKind, pairedBy: number | null): Promise<{ terminal: Terminal; credential: DeviceCredential }> {
  const secret = crypto.randomBytes(32).toString('base64url');
  const [terminal] = await trx('terminals')
    .insert({ name, kind, token_hash: sha256(secret), paired_by: pairedBy, created_at: clock.now() })
    .returning('*');
  return { terminal, credential: { terminalId: terminal.id, secret } };
}

/** A terminal's device cookie lasts this long, renewed on the first request of each day it is used. */
export const DEVICE_MAX_AGE_MS = 90 * 24 * 3600_000;
const SEEN_EVERY_MS = 24 * 3600_000;

/** A terminal unseen for DEVICE_MAX_AGE_MS no longer counts as paired, whatever its cookie says. */
export const deviceExpired = (t: Terminal, now: Date) => t.last_seen_at !== null && now.getTime() - t.last_seen_at.getTime() > DEVICE_MAX_AGE_MS;

/** Whether the terminal's last sighting is old enough to write a new one (and renew its cookie). */
export const deviceDueForSighting = (t: Terminal, now: Date) => t.last_seen_at === null || now.getTime() - t.last_seen_at.getTime() > SEEN_EVERY_MS;

export async function noteTerminalSeen(db: DbOrTrx, terminalId: number, now: Date): Promise<void> {
  await db('terminals').where({ id: terminalId }).update({ last_seen_at: now });
}

/** The terminal a device cookie names, if the secret matches and it is not revoked. */
export async function terminalForDevice(db: DbOrTrx, cred: DeviceCredential | undefined): Promise<Terminal | undefined> {
  if (!cred) return undefined;
  const t = await db('terminals').where({ id: cred.terminalId }).first();
  return t && !t.revoked_at && secretMatches(t.token_hash, cred.secret) ? t : undefined;
}

/** Compares a device secret with the stored hash in constant time. */
function secretMatches(tokenHash: string, secret: string): boolean {
  const a = Buffer.from(tokenHash, 'hex');
  const b = Buffer.from(sha256(secret), 'hex');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export async function revokeTerminal(deps: AuthDeps, terminalId: number, by: { staffId: number; terminalId: number | null }) {
  const n = await deps.db('terminals').where({ id: terminalId }).whereNull('revoked_at').update({ revoked_at: deps.clock.now() });
  if (!n) throw notFound('That terminal');
  await deps.db('sessions').where({ terminal_id: terminalId }).whereNull('ended_at').update({ ended_at: deps.clock.now() });
  await audit(deps.db, deps.clock, { action: 'terminal_revoked', staffId: by.staffId, terminalId: by.terminalId, details: { revoked: terminalId } });
}

export const listTerminals = (db: DbOrTrx) => db('terminals').orderBy('id');

/** A terminal's defaults: the kitchen station its screen shows, the printer its receipts go to. */
export async function setTerminalDefaults(deps: AuthDeps, terminalId: number, d: { stationId: number | null; printerId: number | null }, by: { staffId: number; terminalId: number | null }) {
  if (d.stationId && !(await deps.db('stations').where({ id: d.stationId }).first('id'))) throw notFound('That station');
  if (d.printerId && !(await deps.db('printers').where({ id: d.printerId }).first('id'))) throw notFound('That printer');
  const n = await deps.db('terminals').where({ id: terminalId }).whereNull('revoked_at').update({ default_station_id: d.stationId, receipt_printer_id: d.printerId });
  if (!n) throw notFound('That terminal');
  await audit(deps.db, deps.clock, { action: 'settings_changed', staffId: by.staffId, terminalId: by.terminalId, details: { terminal: terminalId, defaults: d } });
}

// ---- first run -------------------------------------------------------------------------

export async function storeHasStaff(db: DbOrTrx): Promise<boolean> {
  return Boolean(await db('staff').first('id'));
}

/** On an empty store only: the owner and the first terminal (the browser running setup). */
export async function setupStore(deps: AuthDeps, input: { ownerName: string; pin: string; terminalName: string }) {
  return deps.db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', ['store-setup']);
    if (await storeHasStaff(trx)) throw conflict('This store is already set up.', 'already-set-up');
    const owner = await insertStaff(trx, deps.clock, { name: input.ownerName, role: 'owner', pin: input.pin });
    const made = await createTerminal(trx, deps.clock, input.terminalName, 'back_office', owner.id);
    await audit(trx, deps.clock, { action: 'setup', staffId: owner.id, terminalId: made.terminal.id });
    return { owner, ...made };
  });
}

// ---- staff -----------------------------------------------------------------------------

async function insertStaff(trx: DbOrTrx, clock: Clock, input: { name: string; role: Role; pin: string }): Promise<Staff> {
  if (!isValidPin(input.pin)) throw invalid('A PIN is 4 to 8 digits.', [{ field: 'pin', message: 'must be 4–8 digits' }]);
  const key = await lookupKey(trx, clock);
  const lookup = pinLookup(input.pin, key);
  if (await trx('staff').where({ pin_lookup: lookup }).first('id')) {
    throw unprocessable('That PIN is taken: PINs are unique in the store. Choose another.', 'pin-taken');
  }
  const [row] = await trx('staff')
    .insert({ name: input.name, role: input.role, pin_hash: await hashPin(input.pin), pin_lookup: lookup, created_at: clock.now() })
    .returning(['id', 'name', 'role', 'active']);
  return row;
}

export async function createStaff(deps: AuthDeps, input: { name: string; role: Role; pin: string }, by: { staff: Staff; terminalId: number | null }): Promise<Staff> {
  if (roleRank(input.role) > roleRank(by.staff.role)) throw forbidden('You cannot create staff with a higher role than your own.');
  return deps.db.transaction(async (trx) => {
    const s = await insertStaff(trx, deps.clock, input);
    await audit(trx, deps.clock, { action: 'staff_created', staffId: by.staff.id, terminalId: by.terminalId, details: { id: s.id, name: s.name, role: s.role } });
    return s;
  });
}

export const listStaff = (db: DbOrTrx): Promise<Array<Staff & { pin_reset_required: boolean }>> =>
  db('staff').orderBy('id').select('id', 'name', 'role', 'active', 'pin_reset_required');

/**
 * An owner sets a staff member's new PIN (also the way to unblock a PIN that others used,
 * ./pin-check.ts). The member's open sessions end: whoever knew the old PIN is logged out.
 */
export async function setStaffPin(deps: AuthDeps, staffId: number, pin: string, by: { staff: Staff; terminalId: number | null }): Promise<void> {
  if (!isValidPin(pin)) throw invalid('A PIN is 4 to 8 digits.', [{ field: 'pin', message: 'must be 4–8 digits' }]);
  if (by.staff.role !== 'owner') throw forbidden('Only an owner can set a PIN.');
  await deps.db.transaction(async (trx) => {
    const member = await trx('staff').where({ id: staffId }).forUpdate().first('id', 'name');
    if (!member) throw notFound('That staff member');
    const lookup = pinLookup(pin, await lookupKey(trx, deps.clock));
    if (await trx('staff').where({ pin_lookup: lookup }).whereNot({ id: staffId }).first('id')) {
      throw unprocessable('That PIN is taken: PINs are unique in the store. Choose another.', 'pin-taken');
    }
    await trx('staff').where({ id: staffId }).update({ pin_hash: await hashPin(pin), pin_lookup: lookup, pin_misuses: 0, pin_reset_required: false });
    await trx('sessions').where({ staff_id: staffId }).whereNull('ended_at').update({ ended_at: deps.clock.now() });
    await audit(trx, deps.clock, { action: 'staff_changed', staffId: by.staff.id, terminalId: by.terminalId, details: { id: staffId, name: member.name, pin: 'set by owner' } });
  });
}

/** The physical-access way back in: a new PIN for the (first active) owner. */
export async function resetOwnerPin(deps: AuthDeps, pin: string): Promise<Staff> {
  if (!isValidPin(pin)) throw invalid('A PIN is 4 to 8 digits.');
  return deps.db.transaction(async (trx) => {
    const owner = await trx('staff').where({ role: 'owner', active: true }).orderBy('id').first();
    if (!owner) throw notFound('An owner');
    const key = await lookupKey(trx, deps.clock);
    const lookup = pinLookup(pin, key);
    const taken = await trx('staff').where({ pin_lookup: lookup }).whereNot({ id: owner.id }).first('id');
    if (taken) throw unprocessable('That PIN is taken by someone else. Choose another.', 'pin-taken');
    await trx('staff').where({ id: owner.id }).update({ pin_hash: await hashPin(pin), pin_lookup: lookup, pin_misuses: 0, pin_reset_required: false });
    await audit(trx, deps.clock, { action: 'owner_pin_reset', staffId: owner.id, details: { via: 'command line' } });
    return { id: owner.id, name: owner.name, role: owner.role, active: owner.active };
  });
}

// ---- sessions --------------------------------------------------------------------------

export interface Session {
  id: string;
  terminal_id: number;
  staff_id: number | null;
  last_active_at: Date;
  ended_at: Date | null;
}

/** A new session id at every login (rotation); the old session on this terminal ends. */
export async function startSession(deps: AuthDeps, terminalId: number, staffId: number, oldSessionId?: string): Promise<string> {
  const id = crypto.randomBytes(24).toString('base64url');
  const now = deps.clock.now();
  await deps.db.transaction(async (trx) => {
    if (oldSessionId) await trx('sessions').where({ id: oldSessionId }).whereNull('ended_at').update({ ended_at: now });
    await trx('sessions').insert({ id, terminal_id: terminalId, staff_id: staffId, created_at: now, last_active_at: now });
  });
  return id;
}

export async function endSession(deps: AuthDeps, id: string) {
  await deps.db('sessions').where({ id }).whereNull('ended_at').update({ ended_at: deps.clock.now() });
}

/**
 * The terminal a device cookie names and, in the same query, the staff session the session
 * cookie names on that terminal. Read from the database on every request: a revoked terminal or
 * an ended session is refused on its next request, whoever revoked or ended it.
 */
export async function deviceAndSession(db: DbOrTrx, cred: DeviceCredential | undefined, sessionId: string | undefined): Promise<{ terminal?: Terminal; session?: AuthSession }> {
  if (!cred) return {};
  const row: DeviceAndSessionRow | undefined = (await db.raw(DEVICE_AND_SESSION_SQL, [sessionId ?? '', cred.terminalId])).rows[0];
  if (!row || row.revoked_at || !secretMatches(row.token_hash, cred.secret)) return {};
  const terminal: Terminal = { id: row.id, name: row.name, kind: row.kind, receipt_printer_id: row.receipt_printer_id, default_station_id: row.default_station_id, revoked_at: row.revoked_at, last_seen_at: row.last_seen_at };
  const session = row.s_id && row.s_staff_id !== null && row.s_last_active_at && row.st_active
    ? { id: row.s_id, created_at: row.s_created_at!, last_active_at: row.s_last_active_at, staff: { id: row.s_staff_id, name: row.st_name!, role: row.st_role!, active: row.st_active } }
    : undefined;
  return { terminal, session };
}

export interface AuthSession {
  id: string;
  created_at: Date;
  last_active_at: Date;
  staff: Staff;
}
/** A terminal row, the session and staff columns of the left joins (null without a session). */
type DeviceAndSessionRow = Terminal & {
  token_hash: string;
  s_id: string | null;
  s_staff_id: number | null;
  s_last_active_at: Date | null;
  s_created_at: Date | null;
  st_name: string | null;
  st_role: Role | null;
  st_active: boolean | null;
};

const DEVICE_AND_SESSION_SQL = `select t.*, s.id as s_id, s.staff_id as s_staff_id, s.last_active_at as s_last_active_at, s.created_at as s_created_at,
    st.name as st_name, st.role as st_role, st.active as st_active
  from terminals t
  left join sessions s on s.terminal_id = t.id and s.id = ? and s.ended_at is null
  left join staff st on st.id = s.staff_id
  where t.id = ?`;

