import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { spawnCli, waitForListening, type Spawned } from '../helpers/spawn';
import { tempDir } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { seedStore } from '../helpers/store';
import { until } from '../helpers/wait';
import { FakeEscposPrinter, type Paper } from '../fakes/escpos-printer';
import { createApiToken } from '../../server/api/tokens';
import { systemClock } from '../../server/clock';
import { createPrinter } from '../../server/printing/service';

const JOBS = 5;
const orderNo = (p: Paper) => Number(p.lines.find((l) => l.width === 2)!.text.slice(1));
const possibleDuplicate = (p: Paper) => p.lines.some((l) => l.text === '*** POSSIBLE DUPLICATE ***');

/**
 * ARCHITECTURE's printing rules held against a real crash: the server process (tsx, its own
 * DATA_DIR, the suite's PostgreSQL) is sent SIGKILL with kitchen chits queued behind one in flight
 * (its bytes printed, the printer's answer to GS r 1 not yet come). Started again on the same
 * database, it prints every job: none lost, each once, but the one in flight again, marked
 * POSSIBLE DUPLICATE.
 */
describe('the print queue after kill -9 with jobs queued and one in flight', function () {
  this.timeout(180_000);
  let t: TestDb;
  const running: Spawned[] = [];
  const dataDir = tempDir('store-print-crash-');
  const printer = new FakeEscposPrinter();

  before(async () => {
    t = await createTestDb();
  });
  after(async () => {
    for (const s of running) {
      if (s.child.exitCode === null && s.child.signalCode === null) {
        s.child.kill('SIGKILL');
        await s.exited;
      }
    }
    await printer.stop().catch(() => undefined);
    await t?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints every job after the restart, in order, once each; the one in flight again, marked possible duplicate', async () => {
    const store = await seedStore(t.db);
    printer.columns = 48;
    const address = await printer.start();
    const kitchen = await t.db('stations').where({ name: 'Kitchen' }).first();
    const p = await createPrinter({ db: t.db, clock: systemClock }, {
      name: 'Kitchen printer', address, paperWidth: 80, columns: 48, codePage: 19, acknowledgement: true, fallbackPrinterId: null, failoverAfterSeconds: 3600,
      stationIds: [kitchen.id], terminalIds: [],
    }, {});
    const { token } = await createApiToken(t.db, systemClock, { name: 'Crash client', scopes: ['orders:write'] });
    const env = { DATA_DIR: dataDir, DATABASE_URL: t.url, PORT: '0', HOST: '127.0.0.1' };
    const start = async () => {
      const s = spawnCli(['start'], env);
      running.push(s);
      return { s, url: await waitForListening(s) };
    };
    const api = async (url: string, path: string, json: unknown) => {
      const res = await fetch(`${url}/api/v1${path}`, {
        method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(json),
      });
      const body = await res.json();
      assert.ok(res.status < 300, `${path}: ${res.status} ${JSON.stringify(body)}`);
      return body as { id: number; number: number };
    };

    // the printer prints what it gets but never answers GS r: the first job stays in flight
    printer.mode = 'never-answer-gs-r';
    const first = await start();
    const fish = await store.product('Fish & chips');
    const numbers: number[] = [];
    for (let i = 0; i < JOBS; i++) {
      const order = await api(first.url, '/orders', { type: 'dine_in', lines: [{ productId: fish.id, qty: i + 1 }], idempotencyKey: `print-crash-${crypto.randomUUID()}` });
      await api(first.url, `/orders/${order.id}/send`, {});
      numbers.push(order.number);
    }
    await until('the first job in flight, its paper out', async () => printer.printed.length === 1 && (await t.db('print_jobs').where({ printer_id: p.id, state: 'sending' })).length === 1);
    first.s.child.kill('SIGKILL');
    await first.s.exited;
    assert.equal(first.s.child.signalCode, 'SIGKILL');
    const atCrash = await t.db('print_jobs').where({ printer_id: p.id }).orderBy('id').select('state');
    assert.deepEqual(atCrash.map((j) => j.state), ['sending', ...Array(JOBS - 1).fill('queued')], 'one in flight, the rest queued behind it');
    assert.equal(printer.acknowledged, 0);

    // the printer answers again; a new server on the same database
    printer.mode = 'normal';
    const second = await start();
    await until('every job printed', async () => (await t.db('print_jobs').where({ printer_id: p.id }).whereNot({ state: 'printed' })).length === 0, 60_000);
    assert.deepEqual(printer.errors, []);
    assert.equal(printer.printed.length, JOBS + 1, 'each job once, and the one in flight again');
    const [before, ...after] = printer.printed;
    assert.equal(orderNo(before!), numbers[0]);
    assert.ok(!possibleDuplicate(before!), 'printed before the crash, unmarked');
    assert.deepEqual(after.map(orderNo), numbers, 'after the restart: all of them, in order');
    assert.deepEqual(after.map(possibleDuplicate), [true, ...Array(JOBS - 1).fill(false)], 'only the one in flight says POSSIBLE DUPLICATE');
    assert.equal(printer.acknowledged, JOBS);
    const jobs = await t.db('print_jobs').where({ printer_id: p.id }).orderBy('id');
    assert.deepEqual(jobs.map((j) => j.possible_duplicate), [true, ...Array(JOBS - 1).fill(false)]);
    second.s.child.kill('SIGTERM');
    await second.s.exited;
  });
});
