import type { DbOrTrx } from '../db/knex';
import { MIGRATIONS_TABLE } from './migrations';

/**
 * What makes the schema ready for Citus (docs/HEAD-OFFICE.md): the tables distributed by
 * store_id, co-located, each with store_id in its primary key and every unique index (Citus
 * enforces uniqueness only on keys that hold the distribution column), and the small global ones
 * as reference tables. `schemaProblems` reads the catalog and names every table that breaks it.
 */
export const DISTRIBUTED_TABLES = ['ho_stores', 'ho_entries', 'ho_batches', 'ho_rate_limits'] as const;
export const REFERENCE_TABLES = ['ho_operators'] as const;
/** knex's bookkeeping: local tables on the coordinator, read only by the migrator */
const LOCAL_TABLES = [MIGRATIONS_TABLE, `${MIGRATIONS_TABLE}_lock`];

export const DISTRIBUTION_COLUMN = 'store_id';

export async function schemaProblems(db: DbOrTrx): Promise<string[]> {
  const r = await db.raw(`
    select c.relname as table_name,
           exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = ? and not a.attisdropped) as has_column,
           coalesce(json_agg(json_build_object(
             'index', i.relname, 'primary', x.indisprimary,
             'columns', (select json_agg(a.attname) from unnest(x.indkey) k join pg_attribute a on a.attrelid = c.oid and a.attnum = k)
           )) filter (where x.indexrelid is not null), '[]') as keys
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    left join pg_index x on x.indrelid = c.oid and x.indisunique
    left join pg_class i on i.oid = x.indexrelid
    where n.nspname = current_schema() and c.relkind in ('r', 'p')
    group by c.oid, c.relname
    order by c.relname`, [DISTRIBUTION_COLUMN]);
  const problems: string[] = [];
  const skip = new Set<string>([...REFERENCE_TABLES, ...LOCAL_TABLES]);
  type Row = { table_name: string; has_column: boolean; keys: Array<{ index: string; primary: boolean; columns: string[] | null }> };
  for (const t of r.rows as Row[]) {
    if (skip.has(t.table_name)) continue;
    if (!t.has_column) problems.push(`${t.table_name}: no ${DISTRIBUTION_COLUMN} column`);
    if (!t.keys.some((k) => k.primary)) problems.push(`${t.table_name}: no primary key`);
    for (const k of t.keys) {
      // an expression index has no column for it (attnum 0): it cannot hold store_id either
      if (!(k.columns ?? []).includes(DISTRIBUTION_COLUMN)) problems.push(`${t.table_name}: ${k.primary ? 'primary key' : 'unique index'} ${k.index} without ${DISTRIBUTION_COLUMN}`);
    }
    if (!(DISTRIBUTED_TABLES as readonly string[]).includes(t.table_name)) problems.push(`${t.table_name}: not listed as distributed or reference (server/head-office/citus.ts, docs/HEAD-OFFICE.md)`);
  }
  return problems;
}
