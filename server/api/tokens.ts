import crypto from 'node:crypto';
import type { Clock } from '../clock';
import type { DbOrTrx } from '../db/knex';
import { invalid, notFound } from '../errors';

export const API_SCOPES = ['catalog:read', 'catalog:write', 'orders:write', 'payments:write', 'reports:read', 'journal:read', 'inventory:write', 'webhooks:admin', 'devices:admin', 'ledger:admin', 'backups:admin'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export interface ApiToken {
  id: number;
  name: string;
  scopes: ApiScope[];
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

export function parseScopes(list: string[]): ApiScope[] {
  const bad = list.filter((s) => !(API_SCOPES as readonly string[]).includes(s));
  if (bad.length || !list.length) {
    throw invalid(`Scopes must be some of ${API_SCOPES.join(', ')}${bad.length ? `; unknown: ${bad.join(', ')}` : ''}.`, [{ field: 'scopes', message: 'unknown scope' }]);
  }
  return [...new Set(list)] as ApiScope[];
}

/** A new token, shown once: `pos_<random>`; only its hash is kept. */
export async function createApiToken(db: DbOrTrx, clock: Clock, input: { name: string; scopes: ApiScope[]; createdBy?: number | null }) {
  const name = input.name.trim();
  if (!name || name.length > 80) throw invalid('A token needs a name of 1–80 characters.', [{ field: 'name', message: 'required' }]);
  const token = 'pos_' + crypto.randomBytes(30).toString('base64url');
  const [row] = await db('api_tokens')
    .insert({ name, token_hash: sha256(token), scopes: input.scopes, created_by: input.createdBy ?? null, created_at: clock.now() })
    .returning(['id', 'name', 'scopes', 'created_at', 'revoked_at', 'last_used_at']);
  return { token, record: row as ApiToken };
}

export async function tokenFor(db: DbOrTrx, token: string): Promise<ApiToken | undefined> {
  if (!/^pos_[A-Za-z0-9_-]{20,80}$/.test(token)) return undefined;
  return db('api_tokens').where({ token_hash: sha256(token) }).first('id', 'name', 'scopes', 'created_at', 'revoked_at', 'last_used_at');
}

export async function revokeApiToken(db: DbOrTrx, clock: Clock, id: number) {
  const n = await db('api_tokens').where({ id }).whereNull('revoked_at').update({ revoked_at: clock.now() });
  if (!n) throw notFound('That API token');
}

export const listApiTokens = (db: DbOrTrx): Promise<ApiToken[]> =>
  db('api_tokens').orderBy('id').select('id', 'name', 'scopes', 'created_at', 'revoked_at', 'last_used_at');
