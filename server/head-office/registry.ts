import type { Clock } from '../clock';
import type { DbOrTrx } from '../db/knex';
import { findOperator, findStore, insertStore, listStores, updateStore, upsertOperator } from './queries';
import { hashPassword, newStoreSecret, passwordMatches, readSession, sameText, sealStoreSecret, signSession } from './secrets';

/** The stores the ledger knows, their secrets, and the status page's operators (issue 26). */
export class RegistryError extends Error {}

const STORE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function storeIdProblem(id: string): string | undefined {
  return STORE_ID.test(id) ? undefined : 'A store id is 1 to 100 letters, digits, dots, dashes or underscores, starting with a letter or digit.';
}

/**
 * Registers a store and returns its new secret, in clear this once (`ledger add-store`). A revoked
 * store is given a new secret and may ship again, its chain as it was; a store already active
 * keeps its secret (revoke it first to issue another).
 */
export async function addStore(db: DbOrTrx, clock: Clock, secretKey: string, storeId: string): Promise<{ secret: string; reactivated: boolean }> {
  const problem = storeIdProblem(storeId);
  if (problem) throw new RegistryError(problem);
  const secret = newStoreSecret();
  const sealed = sealStoreSecret(secretKey, secret);
  const existing = await findStore(db, storeId);
  if (existing && !existing.revoked_at) throw new RegistryError(`Store ${storeId} is already registered. To give it a new secret, revoke it first (ledger revoke-store --id ${storeId}).`);
  if (existing) {
    await updateStore(db, storeId, { secret_sealed: sealed, revoked_at: null });
    return { secret, reactivated: true };
  }
  await insertStore(db, { store_id: storeId, secret_sealed: sealed, created_at: clock.now() });
  return { secret, reactivated: false };
}

/** Stops a store's secret from signing anything more; what the ledger holds of it stays. */
export async function revokeStore(db: DbOrTrx, clock: Clock, storeId: string): Promise<void> {
  const existing = await findStore(db, storeId);
  if (!existing) throw new RegistryError(`No store ${storeId} is registered.`);
  if (existing.revoked_at) throw new RegistryError(`Store ${storeId} was already revoked.`);
  await updateStore(db, storeId, { revoked_at: clock.now() });
}

export interface StoreStatus {
  storeId: string;
  ackedSeq: number;
  lastBatchAt: Date | null;
  /** how long since the newest entry held was written at the store: whatever it wrote since is still to come */
  backlogAgeMs: number | null;
  chain: { verified: true } | { verified: false; forkAtSeq: number; error: string | null };
  revoked: boolean;
  lastRefusal: { text: string; at: Date | null } | null;
}

export async function storeStatuses(db: DbOrTrx, clock: Clock): Promise<StoreStatus[]> {
  const now = clock.now().getTime();
  return (await listStores(db)).map((s) => ({
    storeId: s.store_id,
    ackedSeq: s.head_seq,
    lastBatchAt: s.last_batch_at,
    backlogAgeMs: s.head_entry_at ? Math.max(0, now - s.head_entry_at.getTime()) : null,
    chain: s.fork_at_seq !== null ? { verified: false, forkAtSeq: s.fork_at_seq, error: s.fork_error } : { verified: true },
    revoked: s.revoked_at !== null,
    lastRefusal: s.last_refusal ? { text: s.last_refusal, at: s.last_refusal_at } : null,
  }));
}

// ---- the status page's operators ---------------------------------------------------------------

export const SESSION_MS = 12 * 3600_000;

export function passwordProblem(password: string): string | undefined {
  return password.length >= 12 && password.length <= 200 ? undefined : 'A password is 12 to 200 characters long.';
}

export async function setOperatorPassword(db: DbOrTrx, clock: Clock, name: string, password: string): Promise<void> {
  if (!/^[A-Za-z0-9._-]{1,60}$/.test(name)) throw new RegistryError('An operator name is 1 to 60 letters, digits, dots, dashes or underscores.');
  const problem = passwordProblem(password);
  if (problem) throw new RegistryError(problem);
  await upsertOperator(db, name, await hashPassword(password), clock.now());
}

/** A session cookie's value for a right name and password, else undefined. */
export async function logIn(db: DbOrTrx, clock: Clock, secretKey: string, name: string, password: string): Promise<string | undefined> {
  const op = await findOperator(db, name);
  if (!op || !(await passwordMatches(password, op.password_hash))) return undefined;
  return signSession(secretKey, op.name, clock.now().getTime() + SESSION_MS, op.password_hash);
}

/** The operator a session cookie names, when it is ours, unexpired, and its password unchanged since. */
export async function sessionOperator(db: DbOrTrx, clock: Clock, secretKey: string, cookie: string | undefined): Promise<string | undefined> {
  const s = cookie ? readSession(cookie) : undefined;
  if (!s || s.expiresMs <= clock.now().getTime()) return undefined;
  const op = await findOperator(db, s.name);
  if (!op) return undefined;
  const expected = signSession(secretKey, op.name, s.expiresMs, op.password_hash);
  return sameText(expected, cookie!) ? op.name : undefined;
}
