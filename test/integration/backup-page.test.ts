import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bootApp, type TestApp } from '../helpers/app';
import { PINS, pairedClient, type Client } from '../helpers/client';
import { tempDir, testConfig } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { needTools } from '../helpers/tools';
import { getSettings } from '../../server/settings/service';
import { Backups } from '../../server/backup/nightly';
import { FakeClock } from '../helpers/clock';
import { testLog } from '../helpers/log';

describe('the back office Backups page and its warnings', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let owner: Client;
  const usb = tempDir('store-backup-page-usb-');

  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    // DATABASE_URL: the app's backups reach the database with pg_dump, as the server's do
    app = await bootApp(t.db, { config: testConfig({ DATABASE_URL: t.url }) });
    owner = await pairedClient(app, { pin: PINS.owner, name: 'Office' });
  });

  after(async () => {
    await app?.close();
    await t?.drop();
    fs.rmSync(usb, { recursive: true, force: true });
  });

  it('warns on the back office home while no second backup folder is set, and about plain HTTP', async () => {
    const home = await owner.get('/backoffice', { htmx: false });
    assert.equal(home.status, 200);
    assert.match(home.text, /id="warn-no-second-backup"/);
    assert.match(home.text, /id="warn-plain-http"/);
    assert.match(home.text, /href="\/backoffice\/backups"/);
  });

  it('refuses a second folder that does not exist, beside its field, and saves nothing', async () => {
    await owner.get('/backoffice/backups', { htmx: false });
    const r = await owner.post('/backoffice/backups/settings', { backupRetention: '7', backupCopyDir: path.join(usb, 'not-mounted') }, { htmx: false });
    assert.equal(r.status, 400);
    assert.match(r.text, /id="backupCopyDir-error"[^>]*>A folder path starting with \//);
    const s = await getSettings(t.db);
    assert.deepEqual([s.backupRetention, s.backupCopyDir], [14, '']);
    const bad = await owner.post('/backoffice/backups/settings', { backupRetention: '0', backupCopyDir: '' }, { htmx: false });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /id="backupRetention-error"/);
  });

  it('saves the retention and the second folder (audited), and the warning goes', async () => {
    const r = await owner.post('/backoffice/backups/settings', { backupRetention: '7', backupCopyDir: usb }, { htmx: false });
    assert.equal(r.status, 200, r.text.slice(0, 500));
    const s = await getSettings(t.db);
    assert.deepEqual([s.backupRetention, s.backupCopyDir], [7, usb]);
    const audit = await t.db('audit_log').where({ action: 'settings_changed' }).orderBy('id', 'desc').first('details');
    assert.deepEqual(audit.details.backupCopyDir, { from: '', to: usb });
    const home = await owner.get('/backoffice', { htmx: false });
    assert.doesNotMatch(home.text, /id="warn-no-second-backup"/);
    // the general settings form leaves them as they are
    const settings = await owner.get('/backoffice/settings', { htmx: false });
    assert.equal(settings.status, 200);
  });

  it('"Back up now" makes a backup, copies it to the second folder and lists it', async function () {
    needTools(this, 'pg_dump');
    const r = await owner.post('/backoffice/backups', {}, { htmx: false });
    assert.equal(r.status, 200);
    assert.match(r.text, /Backup made\./);
    const row = /<code>(store-[^<]+\.dump)<\/code>/.exec(r.text);
    assert.ok(row, 'the backup is listed');
    assert.ok(fs.existsSync(path.join(app.config.dataDir, 'backups', row[1])));
    assert.ok(fs.existsSync(path.join(usb, row[1])), 'copied to the second folder');
  });

  it('backs up once a business day: at the first check after the day starts, not again that day', async function () {
    needTools(this, 'pg_dump');
    const clock = new FakeClock(new Date('2031-03-10T02:00:00Z')); // 03:00 in Berlin: before the 04:00 day start
    await t.db('settings').where({ key: 'timezone' }).update({ value: JSON.stringify('Europe/Berlin') });
    const dataDir = tempDir('store-nightly-');
    const backups = new Backups({ config: testConfig({ DATA_DIR: dataDir }), db: t.db, clock, log: testLog, url: () => t.url });
    try {
      assert.ok(await backups.backUpIfDue(), 'no backup yet: one now (business day of the 9th)');
      clock.set(new Date('2031-03-10T02:50:00Z'));
      assert.equal(await backups.backUpIfDue(), undefined, 'the same business day: none');
      clock.set(new Date('2031-03-10T03:10:00Z')); // 04:10 in Berlin: a new business day
      assert.ok(await backups.backUpIfDue(), 'the new business day: one');
      assert.equal(await backups.backUpIfDue(), undefined);
      assert.deepEqual(backups.list().map((b) => b.name), ['store-2031-03-10T03-10-00Z.dump', 'store-2031-03-10T02-00-00Z.dump']);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('is the owner\'s: a cashier is asked for approval', async () => {
    const cashier = await pairedClient(app, { pin: PINS.cashier, name: 'Till' });
    const r = await cashier.get('/backoffice/backups', { htmx: false });
    assert.notEqual(r.status, 200);
    assert.doesNotMatch(r.text, /id="backup-list"|Kept backups/);
  });
});
