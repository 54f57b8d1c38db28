import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { FakeClock } from '../helpers/clock';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { tempDir } from '../helpers/config';
import { testLog } from '../helpers/log';
import * as orders from '../../server/orders/service';
import { ExportScheduler } from '../../server/export/service';
import { seedSettings } from '../../server/settings/service';
import { createEventBus } from '../../server/events';

/** The nightly export (issue 23) also goes to the second backup folder (issue 27): <folder>/exports/<date>.zip. */
describe('the nightly export copied to the second backup folder', function () {
  this.timeout(60_000);
  let t: TestDb;
  const clock = new FakeClock('2026-03-14T09:30:00Z');
  const DAY = '2026-03-14';
  const dirs: string[] = [];
  const dir = (prefix: string) => {
    const d = tempDir(prefix);
    dirs.push(d);
    return d;
  };
  const setting = (k: string, v: unknown) => t.db('settings').insert({ key: k, value: JSON.stringify(v), updated_at: new Date() }).onConflict('key').merge();

  /** What the scheduler does at a start the morning after: writes the due day, then (the change) copies it. */
  async function exportAtStart(exportDir: string): Promise<void> {
    await t.db('export_runs').del();
    const s = new ExportScheduler({ db: t.db, clock, log: testLog, exportDir });
    s.start();
    await s.idle();
    await s.stop();
  }

  before(async () => {
    t = await createTestDb();
    const store = await seedStore(t.db);
    await seedSettings(t.db, clock, {});
    const deps: orders.OrderDeps = { db: t.db, clock, events: createEventBus(testLog) };
    const o = await orders.openOrder(deps, { type: 'counter' });
    await orders.addLine(deps, o.id, { productId: (await store.product('Brownie')).id, quantity: 2, modifierIds: [], note: null });
    await orders.tenderCash(deps, o.id, (await t.db('orders').where({ id: o.id }).first()).total, crypto.randomUUID(), {});
    clock.set('2026-03-15T06:00:00Z'); // past the 05:00 export time of the next morning: the 14th is due
  });
  after(async () => {
    await t?.drop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('puts the day\'s export, zipped and whole, into <second folder>/exports/', async () => {
    const exportDir = dir('store-export-copy-');
    const usb = dir('store-export-usb-');
    await setting('backupCopyDir', usb);
    await exportAtStart(exportDir);
    const folder = path.join(exportDir, DAY);
    assert.ok(fs.existsSync(path.join(folder, 'manifest.json')), 'the export is written');
    const zip = path.join(usb, 'exports', `${DAY}.zip`);
    assert.ok(fs.existsSync(zip), 'and copied to the second folder');
    assert.deepEqual(fs.readdirSync(path.join(usb, 'exports')), [`${DAY}.zip`], 'no .part left behind');
    const files = unzipSync(new Uint8Array(fs.readFileSync(zip)));
    const names = fs.readdirSync(folder).sort();
    assert.deepEqual(Object.keys(files).sort(), names.map((n) => `${DAY}/${n}`));
    for (const n of names) assert.ok(Buffer.from(files[`${DAY}/${n}`]).equals(fs.readFileSync(path.join(folder, n))), `${n} is the same in the copy`);
  });

  it('copies nothing once the second folder is no longer set (the setting is read at each export)', async () => {
    const usb = dir('store-export-usb-');
    await setting('backupCopyDir', usb);
    await exportAtStart(dir('store-export-copy-'));
    assert.ok(fs.existsSync(path.join(usb, 'exports', `${DAY}.zip`)));
    fs.rmSync(path.join(usb, 'exports'), { recursive: true });
    await setting('backupCopyDir', '');
    await exportAtStart(dir('store-export-copy-'));
    assert.ok(await t.db('export_runs').where({ business_date: DAY }).first(), 'the export is written');
    assert.ok(!fs.existsSync(path.join(usb, 'exports')), 'the folder set before got nothing');
  });

  it('still writes the export when the second folder is not mounted, and creates no folder in its place', async () => {
    const exportDir = dir('store-export-copy-');
    const unmounted = path.join(dir('store-export-media-'), 'usb-stick');
    await setting('backupCopyDir', unmounted);
    await exportAtStart(exportDir);
    assert.ok(fs.existsSync(path.join(exportDir, DAY, 'manifest.json')), 'the export is written');
    assert.equal((await t.db('export_runs').where({ business_date: DAY }).first())?.trigger, 'start', 'and recorded as done');
    assert.ok(!fs.existsSync(unmounted), 'the missing stick\'s path is not made on the server\'s own disk');
  });
});
