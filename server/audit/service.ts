import type { Clock } from '../clock';
import type { DbOrTrx } from '../db/knex';

export type AuditAction =
  | 'setup' | 'login' | 'logout' | 'pin_failed' | 'lockout' | 'override' | 'override_failed'
  | 'void' | 'comp' | 'refund' | 'price_override' | 'discount' | 'settings_changed' | 'product_availability'
  | 'terminal_paired' | 'terminal_revoked' | 'pairing_code_created' | 'pairing_failed'
  | 'staff_created' | 'staff_changed' | 'owner_pin_reset' | 'pin_blocked'
  | 'no_sale' | 'reprint' // the cash drawer opened without a sale; a receipt printed again (server/printing/)
  // the back office (issue 24): catalog, stock, staff
  | 'catalog_changed' | 'price_changed' | 'catalog_imported' | 'stock_adjusted' | 'staff_deactivated' | 'staff_reactivated' | 'clock_in' | 'clock_out';

export interface AuditInput {
  action: AuditAction;
  staffId?: number | null;
  approvedBy?: number | null;
  terminalId?: number | null;
  details?: Record<string, unknown>;
}

/** Appends one audit record (the table refuses UPDATE and DELETE). */
export async function audit(db: DbOrTrx, clock: Clock, a: AuditInput): Promise<void> {
  await db('audit_log').insert({
    at: clock.now(),
    action: a.action,
    staff_id: a.staffId ?? null,
    approved_by: a.approvedBy ?? null,
    terminal_id: a.terminalId ?? null,
    details: JSON.stringify(a.details ?? {}),
  });
}

/**
 * The audit log, newest first, filtered by what (action), who (the staff member who did it or
 * approved it) and when (from ≤ at < to); a page ends at `beforeId` (the last id of the page
 * before), so pages stay put while new rows arrive.
 */
export async function listAudit(db: DbOrTrx, filter: { action?: string; staffId?: number; from?: Date; to?: Date; limit?: number; beforeId?: number }) {
  const q = db('audit_log as a')
    .leftJoin('staff as s', 's.id', 'a.staff_id')
    .leftJoin('staff as m', 'm.id', 'a.approved_by')
    .leftJoin('terminals as t', 't.id', 'a.terminal_id')
    .select('a.*', 's.name as staff_name', 'm.name as approver_name', 't.name as terminal_name')
    .orderBy('a.id', 'desc')
    .limit(filter.limit ?? 100);
  if (filter.action) q.where('a.action', filter.action);
  if (filter.staffId) q.where((w) => w.where('a.staff_id', filter.staffId!).orWhere('a.approved_by', filter.staffId!));
  if (filter.from) q.where('a.at', '>=', filter.from);
  if (filter.to) q.where('a.at', '<', filter.to);
  if (filter.beforeId) q.where('a.id', '<', filter.beforeId);
  return q;
}

/** The actions the log holds, for the "what" filter. */
export async function auditActions(db: DbOrTrx): Promise<string[]> {
  return db('audit_log').distinct('action').orderBy('action').pluck('action');
}
