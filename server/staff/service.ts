import type { Clock } from '../clock';
import { inTransaction, type Db, type DbOrTrx } from '../db/knex';
import { audit } from '../audit/service';
import { conflict, forbidden, notFound } from '../errors';
import { roleRank, type Role } from '../auth/permissions';

/**
 * Staff management beyond creation and PINs (those stay in server/auth/service.ts, their one
 * implementation): a role changed, a member deactivated (their history kept: orders, audit and
 * hours still name them) or brought back, and the time clock.
 */

export interface StaffDeps {
  db: Db;
  clock: Clock;
}

export interface By {
  staff: { id: number; role: Role };
  terminalId: number | null;
}

async function lockMember(trx: DbOrTrx, id: number) {
  const m = await trx('staff').where({ id }).forUpdate().first('id', 'name', 'role', 'active');
  if (!m) throw notFound('That staff member');
  return m as { id: number; name: string; role: Role; active: boolean };
}

/** Nobody may leave the store without an active owner. */
async function assertOwnerLeft(trx: DbOrTrx, exceptId: number) {
  const others = await trx('staff').where({ role: 'owner', active: true }).whereNot({ id: exceptId }).first('id');
  if (!others) throw conflict('The store needs at least one active owner: make someone else owner first.', 'last-owner');
}

export function setRole(deps: StaffDeps, id: number, role: Role, by: By): Promise<void> {
  return inTransaction(deps.db, async (trx) => {
    const m = await lockMember(trx, id);
    if (m.role === role) return;
    if (roleRank(role) > roleRank(by.staff.role) || roleRank(m.role) > roleRank(by.staff.role)) throw forbidden('You cannot give or take a role higher than your own.');
    if (m.role === 'owner') await assertOwnerLeft(trx, id);
    await trx('staff').where({ id }).update({ role });
    // a new role applies from the next login: end their sessions so no terminal keeps the old one
    await trx('sessions').where({ staff_id: id }).whereNull('ended_at').update({ ended_at: deps.clock.now() });
    await audit(trx, deps.clock, { action: 'staff_changed', staffId: by.staff.id, terminalId: by.terminalId, details: { id, name: m.name, role: { from: m.role, to: role } } });
  });
}

/** Deactivates (they can no longer sign in; their sessions end; a running clock-in is closed) or reactivates a member. */
export function setActive(deps: StaffDeps, id: number, active: boolean, by: By): Promise<void> {
  return inTransaction(deps.db, async (trx) => {
    const m = await lockMember(trx, id);
    if (m.active === active) return;
    if (!active && id === by.staff.id) throw conflict('You cannot deactivate yourself.', 'deactivate-self');
    if (roleRank(m.role) > roleRank(by.staff.role)) throw forbidden('You cannot change someone with a higher role than your own.');
    const now = deps.clock.now();
    if (!active) {
      if (m.role === 'owner') await assertOwnerLeft(trx, id);
      await trx('sessions').where({ staff_id: id }).whereNull('ended_at').update({ ended_at: now });
      await trx('staff_clock').where({ staff_id: id }).whereNull('clock_out').update({ clock_out: now });
    }
    await trx('staff').where({ id }).update({ active, deactivated_at: active ? null : now });
    await audit(trx, deps.clock, { action: active ? 'staff_reactivated' : 'staff_deactivated', staffId: by.staff.id, terminalId: by.terminalId, details: { id, name: m.name } });
  });
}

export interface ClockState {
  clockedIn: boolean;
  since: Date | null;
}

export async function clockState(db: DbOrTrx, staffId: number): Promise<ClockState> {
  const open = await db('staff_clock').where({ staff_id: staffId }).whereNull('clock_out').first('clock_in');
  return { clockedIn: Boolean(open), since: open?.clock_in ?? null };
}

/** Clocks a staff member in, or out when they are in. Returns what they are now. */
export function toggleClock(deps: StaffDeps, staffId: number, terminalId: number | null): Promise<ClockState> {
  return inTransaction(deps.db, async (trx) => {
    await lockMember(trx, staffId); // two taps of one person take turns
    const now = deps.clock.now();
    const open = await trx('staff_clock').where({ staff_id: staffId }).whereNull('clock_out').first('id', 'clock_in');
    if (open) {
      await trx('staff_clock').where({ id: open.id }).update({ clock_out: now });
      await audit(trx, deps.clock, { action: 'clock_out', staffId, terminalId, details: { since: open.clock_in } });
      return { clockedIn: false, since: null };
    }
    await trx('staff_clock').insert({ staff_id: staffId, clock_in: now, terminal_id: terminalId });
    await audit(trx, deps.clock, { action: 'clock_in', staffId, terminalId });
    return { clockedIn: true, since: now };
  });
}

export interface HoursRow {
  staffId: number;
  name: string;
  role: Role;
  active: boolean;
  /** worked in the range, in minutes (a shift still open counts up to now) */
  minutes: number;
  shifts: number;
  clockedIn: boolean;
}

/** Hours worked per staff member between `from` and `to` (the parts of shifts inside the range). */
export async function hoursWorked(deps: StaffDeps, from: Date, to: Date): Promise<HoursRow[]> {
  const now = deps.clock.now();
  const rows: Array<{ id: number; name: string; role: Role; active: boolean; minutes: string | number | null; shifts: string | number; open: boolean }> = await deps.db('staff as s')
    .leftJoin('staff_clock as c', (j) => j.on('c.staff_id', 's.id').andOn('c.clock_in', '<', deps.db.raw('?', [to])).andOn(deps.db.raw('coalesce(c.clock_out, ?) > ?', [now, from])))
    .groupBy('s.id')
    .orderBy('s.name')
    .select('s.id', 's.name', 's.role', 's.active')
    .select(deps.db.raw('floor(sum(extract(epoch from least(coalesce(c.clock_out, ?), ?) - greatest(c.clock_in, ?))) / 60) as minutes', [now, to, from]))
    .select(deps.db.raw('count(c.id) as shifts'))
    .select(deps.db.raw('bool_or(c.id is not null and c.clock_out is null) as open'));
  return rows.map((r) => ({ staffId: r.id, name: r.name, role: r.role, active: r.active, minutes: Math.max(0, Number(r.minutes ?? 0)), shifts: Number(r.shifts), clockedIn: Boolean(r.open) }));
}

/** Who is clocked in now, by staff id. */
export async function clockedIn(db: DbOrTrx): Promise<Set<number>> {
  return new Set((await db('staff_clock').whereNull('clock_out').pluck('staff_id')).map(Number));
}
