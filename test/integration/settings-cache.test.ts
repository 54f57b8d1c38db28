import assert from 'node:assert/strict';
import { FakeClock } from '../helpers/clock';
import { createTestDb, type TestDb } from '../helpers/pg';
import { forgetSettings, getSettings, seedSettings, settingsPrimer } from '../../server/settings/service';

describe('the business settings cache', function () {
  this.timeout(60_000);
  let a: TestDb;
  let b: TestDb;
  const clock = new FakeClock();
  const setName = (t: TestDb, name: string) => t.db('settings').where({ key: 'storeName' }).update({ value: JSON.stringify(name) });

  before(async () => {
    a = await createTestDb();
    b = await createTestDb();
    await seedSettings(a.db, clock, { storeName: 'Store A', currency: 'EUR' });
    await seedSettings(b.db, clock, { storeName: 'Store B', currency: 'JPY' });
  });
  after(async () => {
    await a.drop();
    await b.drop();
  });

  it('keeps one copy per database (two stores in one process never mix)', async () => {
    assert.equal((await getSettings(a.db)).currency, 'EUR');
    assert.equal((await getSettings(b.db)).currency, 'JPY');
    await a.db.transaction(async (trx) => assert.equal((await getSettings(trx)).storeName, 'Store A'));
  });

  it('is dropped when written, and refreshed by what a request read alongside its auth', async () => {
    await getSettings(a.db);
    await setName(a, 'Renamed');
    assert.equal((await getSettings(a.db)).storeName, 'Store A', 'a write behind its back is not seen by itself…');
    forgetSettings(a.db);
    assert.equal((await getSettings(a.db)).storeName, 'Renamed', '…until the writer drops it');
    await setName(a, 'Renamed again');
    settingsPrimer(a.db)(JSON.stringify({ storeName: 'Renamed again' }));
    assert.equal((await getSettings(a.db)).storeName, 'Renamed again', 'an auth query read the new text');
  });

  it('a read that started before a write does not put the old settings back', async () => {
    const prime = settingsPrimer(a.db); // an auth query goes out…
    await setName(a, 'After the write');
    forgetSettings(a.db); // …the settings page saves…
    prime(JSON.stringify({ storeName: 'Before the write' })); // …and the query's older answer arrives
    assert.equal((await getSettings(a.db)).storeName, 'After the write');
  });
});
