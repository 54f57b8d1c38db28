import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PgCluster } from '../../server/db/embedded';
import { createDb, type Db } from '../../server/db/knex';
import { migrateLatest } from '../../server/db/migrations';
import { testLog } from './log';

/**
 * One embedded PostgreSQL per test run (started by the root hook), a migrated template
 * database, and a fresh database cloned from it for each suite that asks.
 */
let cluster: PgCluster | undefined;
let root: string | undefined;
const TEMPLATE = 'store_template';

export async function startTestCluster(): Promise<void> {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'store-test-pg-'));
  cluster = new PgCluster({ dir: path.join(root, 'pg'), log: testLog, settings: { fsync: 'off', max_connections: '300' } });
  await cluster.start();
  const admin = createDb(cluster.connectionString('postgres'), { poolMax: 1 });
  await admin.raw(`create database ${TEMPLATE}`);
  await admin.destroy();
  const tpl = createDb(cluster.connectionString(TEMPLATE), { poolMax: 2 });
  await migrateLatest(tpl);
  await tpl.destroy();
}

export async function stopTestCluster(): Promise<void> {
  await cluster?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
}

export function testCluster(): PgCluster {
  if (!cluster) throw new Error('the test cluster is not running (root hook missing?)');
  return cluster;
}

export interface TestDb {
  db: Db;
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database for one suite: a clone of the template. */
export async function createTestDb(opts: { empty?: boolean; poolMax?: number } = {}): Promise<TestDb> {
  const c = testCluster();
  const name = 't_' + crypto.randomBytes(6).toString('hex');
  const admin = createDb(c.connectionString('postgres'), { poolMax: 1 });
  await admin.raw(opts.empty ? `create database ${name}` : `create database ${name} template ${TEMPLATE}`);
  await admin.destroy();
  const url = c.connectionString(name);
  const db = createDb(url, { poolMax: opts.poolMax ?? 20 });
  return {
    db,
    url,
    name,
    async drop() {
      await db.destroy();
      const a = createDb(c.connectionString('postgres'), { poolMax: 1 });
      await a.raw(`drop database if exists ${name} with (force)`);
      await a.destroy();
    },
  };
}
