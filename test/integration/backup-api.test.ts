import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bootApp, type TestApp } from '../helpers/app';
import { ApiRecorder } from '../helpers/api';
import { PINS, pairedClient } from '../helpers/client';
import { tempDir, testConfig } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { needTools, toolPath } from '../helpers/tools';
import { FakeClock } from '../helpers/clock';
import { createApiToken } from '../../server/api/tokens';
import { backupProblem } from '../../server/backup/api-routes';
import { PgToolMissingError } from '../../server/backup/dump';

interface BackupJson { name: string; bytes: number; createdAt: string; copied: boolean }
interface BackupList { dir: string; copyDir: string | null; available: boolean; lastError: { at: string; message: string } | null; items: BackupJson[] }
interface BackupMade extends BackupJson { copyError: string | null; pruned: string[] }

const key = () => crypto.randomUUID();

describe('the backups over the API (/api/v1/backups, backups:admin)', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let api: ApiRecorder;
  let token: string;
  const usb = tempDir('store-backup-api-usb-');
  const setting = (k: string, v: unknown) => t.db('settings').insert({ key: k, value: JSON.stringify(v), updated_at: new Date() }).onConflict('key').merge();
  const kept = () => fs.readdirSync(path.join(app.config.dataDir, 'backups'), { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort();

  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    // DATABASE_URL: the app's backups reach the database with pg_dump, as the server's do
    app = await bootApp(t.db, { clock: new FakeClock('2031-05-04T01:30:00Z'), config: testConfig({ DATABASE_URL: t.url }) });
    api = await ApiRecorder.load(app.url);
    token = (await createApiToken(t.db, app.clock, { name: 'Backup monitor', scopes: ['backups:admin'] })).token;
  });

  after(async () => {
    await app?.close();
    await t?.drop();
    fs.rmSync(usb, { recursive: true, force: true });
  });

  it('refuses without a token (401) and without the backups:admin scope (403)', async () => {
    const other = (await createApiToken(t.db, app.clock, { name: 'Reports only', scopes: ['reports:read', 'ledger:admin'] })).token;
    for (const [m, json] of [['GET', undefined], ['POST', { idempotencyKey: key() }]] as const) {
      assert.equal((await api.call(m, '/backups', { json })).status, 401, `${m} without a token`);
      const r = await api.call(m, '/backups', { json, token: other });
      assert.equal(r.status, 403, `${m} without the scope`);
      assert.match(r.body.title, /backups:admin/);
    }
    assert.ok(!fs.existsSync(path.join(app.config.dataDir, 'backups')), 'nothing was backed up');
  });

  it('lists no backups before the first, and says no second folder is set', async () => {
    const r = await api.call<BackupList>('GET', '/backups', { token });
    assert.equal(r.status, 200);
    assert.deepEqual([r.body.items, r.body.copyDir, r.body.available, r.body.lastError], [[], null, true, null]);
    assert.equal(r.body.dir, path.join(app.config.dataDir, 'backups'));
  });

  it('refuses a backup request without its idempotencyKey, or with other fields (400), and makes none', async () => {
    for (const json of [{}, { idempotencyKey: 'short' }, { idempotencyKey: key(), retention: 3 }]) {
      const r = await api.call('POST', '/backups', { token, json });
      assert.equal(r.status, 400, JSON.stringify(json));
      assert.equal(r.body.type, '/problems/validation');
    }
    assert.ok(!fs.existsSync(path.join(app.config.dataDir, 'backups')), 'nothing was backed up');
  });

  it('backs up now (201), copied to the second folder; a retried key answers the same backup and makes none', async function () {
    needTools(this, 'pg_dump');
    await setting('backupCopyDir', usb);
    const k = key();
    const made = await api.call<BackupMade>('POST', '/backups', { token, json: { idempotencyKey: k } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.name, 'store-2031-05-04T01-30-00Z.dump');
    assert.equal(made.body.createdAt, '2031-05-04T01:30:00.000Z', 'the clock\'s time');
    assert.deepEqual([made.body.copied, made.body.copyError], [true, null]);
    const file = path.join(app.config.dataDir, 'backups', made.body.name);
    assert.equal(fs.statSync(file).size, made.body.bytes);
    assert.equal(fs.readFileSync(file).subarray(0, 5).toString('latin1'), 'PGDMP', 'a pg_dump custom-format archive');
    assert.ok(fs.readFileSync(path.join(usb, made.body.name)).equals(fs.readFileSync(file)), 'the second copy is whole');

    app.clock.advance(60_000); // a second backup would have another name: none may be made
    const again = await api.call<BackupMade>('POST', '/backups', { token, json: { idempotencyKey: k } });
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.body, made.body);
    assert.deepEqual(kept(), [made.body.name]);

    const second = await api.call<BackupMade>('POST', '/backups', { token, json: { idempotencyKey: key() } });
    assert.equal(second.status, 201);
    assert.equal(second.body.name, 'store-2031-05-04T01-31-00Z.dump');
    assert.deepEqual(kept(), [made.body.name, second.body.name]);
  });

  it('lists the backups newest first, each with its size, time and whether the second folder holds it', async function () {
    needTools(this, 'pg_dump');
    fs.rmSync(path.join(usb, 'store-2031-05-04T01-30-00Z.dump')); // the stick lost the first one
    const r = await api.call<BackupList>('GET', '/backups', { token });
    assert.equal(r.status, 200);
    assert.equal(r.body.copyDir, usb);
    assert.deepEqual(r.body.items.map((b) => [b.name, b.createdAt, b.copied]), [
      ['store-2031-05-04T01-31-00Z.dump', '2031-05-04T01:31:00.000Z', true],
      ['store-2031-05-04T01-30-00Z.dump', '2031-05-04T01:30:00.000Z', false],
    ]);
    for (const b of r.body.items) assert.equal(b.bytes, fs.statSync(path.join(app.config.dataDir, 'backups', b.name)).size);
  });

  it('answers 503 with pg_dump\'s reason (or the missing tool and its package) when no backup can be made, and records no key', async () => {
    // the same store, but an address pg_dump cannot back up
    const broken = await bootApp(t.db, { clock: app.clock, config: testConfig({ DATABASE_URL: t.url.replace(t.name, 'no_such_database') }) });
    try {
      const other = new ApiRecorder(broken.url, api.doc);
      const k = key();
      const r = await other.call('POST', '/backups', { token, json: { idempotencyKey: k } });
      for (const s of other.seen) api.seen.add(s);
      assert.equal(r.status, 503, JSON.stringify(r.body));
      if (toolPath('pg_dump')) {
        assert.equal(r.body.type, '/problems/backup-failed');
        assert.match(r.body.title, /^No backup was made: pg_dump failed \(exit \d+\): .*no_such_database/);
      } else {
        assert.equal(r.body.type, '/problems/backup-tool-missing');
        assert.match(r.body.title, /apt-get install postgresql-client-15/);
      }
      assert.doesNotMatch(JSON.stringify(r.body), /\n\s+at |\.ts:\d+/, 'no stack trace');
      assert.equal(await t.db('api_idempotency').where({ key: k }).first(), undefined, 'a retry with the key tries again');
      assert.deepEqual(fs.readdirSync(path.join(broken.config.dataDir, 'backups')), [], 'no half-written file left');
      const list = await other.call<BackupList>('GET', '/backups', { token });
      assert.match(list.body.lastError?.message ?? '', /no_such_database/, 'the list says what went wrong last');
    } finally {
      await broken.close();
    }
  });

  it('names the missing tool and its package, or the unknown database address, as a 503 problem', () => {
    const missing = backupProblem(new PgToolMissingError('pg_dump', ['/usr/lib/postgresql/15/bin']), true);
    assert.deepEqual([missing.status, missing.id], [503, 'backup-tool-missing']);
    assert.match(missing.message, /^No backup was made: pg_dump was not found .*apt-get install postgresql-client-15/);
    const noUrl = backupProblem(new Error('this server does not know its database address, so it cannot back it up'), false);
    assert.deepEqual([noUrl.status, noUrl.id], [503, 'backups-unavailable']);
  });

  it('the back office menu links to the Backups page, marked as the current page there', async () => {
    const owner = await pairedClient(app, { pin: PINS.owner, name: 'Office' });
    const link = /<a class="btn" href="\/backoffice\/backups"( aria-current="page")?>Backups<\/a>/;
    const home = link.exec((await owner.get('/backoffice', { htmx: false })).text);
    assert.ok(home, 'the home page\'s menu links to it');
    assert.equal(home[1], undefined, 'not as the current page');
    const page = await owner.get('/backoffice/backups', { htmx: false });
    assert.equal(page.status, 200);
    assert.equal(link.exec(page.text)?.[1], ' aria-current="page"');
  });

  it('exercised every status the document lists for /backups', async function () {
    needTools(this, 'pg_dump');
    const missing = api.listed().filter((k) => / \/backups /.test(k) && !api.seen.has(k));
    assert.deepEqual(missing, []);
  });
});
