import assert from 'node:assert/strict';
import { bootApp, type TestApp } from '../helpers/app';
import { Client, login, pairedClient, PINS } from '../helpers/client';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';

/**
 * Staff in the back office (issue 24): made, role changed, PIN reset, deactivated with their
 * history kept (and back), and the time clock's hours on the staff report.
 */
describe('staff in the back office: roles, deactivation, clock in/out and hours', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let owner: Client;

  before(async () => {
    t = await createTestDb();
    await seedStore(t.db);
    app = await bootApp(t.db);
    owner = await pairedClient(app, { pin: PINS.owner, name: 'Back office' });
    await owner.get('/backoffice/staff', { htmx: false });
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
  const member = (name: string) => t.db('staff').where({ name }).first();

  it('makes a staff member, changes their role (their session ends), resets their PIN', async () => {
    assert.equal((await owner.post('/backoffice/staff', { name: 'Noah', role: 'server', pin: '5151' })).status, 204);
    const noah = await member('Noah');
    const till = await pairedClient(app, { pin: '5151', name: 'Noah till' });
    assert.equal((await till.get('/backoffice/products', { htmx: false })).status, 403, 'a server may not edit the catalog');
    assert.equal((await owner.post(`/backoffice/staff/${noah.id}/role`, { role: 'manager' })).status, 204);
    assert.equal((await member('Noah')).role, 'manager');
    assert.notEqual((await till.get('/terminal', { htmx: false })).status, 200, 'the old session (with the old role) ended');
    await login(till, '5151');
    assert.equal((await till.get('/backoffice/products', { htmx: false })).status, 200, 'a manager edits the catalog');
    assert.equal((await owner.post(`/backoffice/staff/${noah.id}/role`, { role: 'chef' })).status, 400);
    assert.equal((await owner.post(`/backoffice/staff/${noah.id}/pin`, { pin: '6161' })).status, 204);
    const audit = await t.db('audit_log').where({ action: 'staff_changed' }).orderBy('id').select('details');
    assert.ok(audit.some((a) => a.details.role?.to === 'manager'));
  });

  it('deactivates a member: they cannot sign in, their history stays; reactivated they can', async () => {
    const noah = await member('Noah');
    assert.equal((await owner.post(`/backoffice/staff/${noah.id}/deactivate`)).status, 204);
    const row = await member('Noah');
    assert.equal(row.active, false);
    assert.ok(row.deactivated_at);
    const till = await pairedClient(app, { name: 'Another till' });
    await till.get('/login', { htmx: false });
    assert.notEqual((await till.post('/login', { pin: '6161' })).status, 204, 'an inactive PIN does not sign in');
    const page = await owner.get('/backoffice/staff', { htmx: false });
    assert.match(text(page.text), /Noah .* Inactive/);
    const ownerId = (await t.db('staff').where({ role: 'owner' }).first('id')).id;
    assert.equal((await owner.post(`/backoffice/staff/${ownerId}/deactivate`)).status, 409, 'nobody deactivates themselves');
    assert.equal((await owner.post(`/backoffice/staff/${noah.id}/reactivate`)).status, 204);
    await till.get('/login', { htmx: false });
    assert.equal((await till.post('/login', { pin: '6161' })).status, 204);
  });

  it('clocks in and out on the terminal; the hours show on the staff report', async () => {
    const start = new Date('2026-03-02T08:00:00Z');
    app.clock.set(start);
    const cashier = await pairedClient(app, { pin: PINS.cashier, name: 'Clock till' });
    const inR = await cashier.post('/staff/clock');
    assert.equal(inR.status, 204);
    assert.match(inR.headers.get('HX-Trigger') ?? '', /clocked in/);
    app.clock.set(new Date(start.getTime() + (7 * 60 + 30) * 60_000));
    await login(cashier, PINS.cashier); // the terminal locked long ago: they sign in again to clock out
    await login(owner, PINS.owner);
    const outR = await cashier.post('/staff/clock');
    assert.equal(outR.status, 204);
    assert.match(outR.headers.get('HX-Trigger') ?? '', /clocked out/);
    const rows = await t.db('staff_clock as c').join('staff as s', 's.id', 'c.staff_id').where('s.name', 'like', 'Chloe%').select('c.clock_in', 'c.clock_out');
    assert.equal(rows.length, 1);
    const report = await owner.get('/backoffice/staff/hours?from=2026-03-01&to=2026-03-07', { htmx: false });
    assert.equal(report.status, 200);
    assert.match(text(report.text), /Chloe \(cashier\) Cashier 1 7 h 30 min/);
    const none = await owner.get('/backoffice/staff/hours?from=2026-04-01&to=2026-04-07', { htmx: false });
    assert.match(text(none.text), /No hours from 2026-04-01 to 2026-04-07/);
    assert.equal(await t.db('audit_log').whereIn('action', ['clock_in', 'clock_out']).count('* as n').then((r) => Number(r[0].n)), 2);
    // the audit log's filters: what, who and when (store-local days)
    const chloe = (await t.db('staff').where('name', 'like', 'Chloe%').first('id')).id;
    const rowsOf = async (q: string) => [...(await owner.get(`/backoffice/audit?${q}`, { htmx: false })).text.matchAll(/<tr class="audit-row" data-action="([a-z_]+)"/g)].map((m) => m[1]);
    assert.deepEqual(await rowsOf(`action=clock_in&staff=${chloe}&from=2026-03-02&to=2026-03-02`), ['clock_in']);
    assert.deepEqual(await rowsOf(`staff=${chloe}&from=2026-03-02&to=2026-03-02`).then((a) => a.filter((x) => x.startsWith('clock'))), ['clock_out', 'clock_in']);
    assert.deepEqual(await rowsOf(`action=clock_in&from=2026-03-03`), []);
    assert.deepEqual(await rowsOf(`action=clock_in&staff=${(await member('Noah')).id}`), []);
  });
});
