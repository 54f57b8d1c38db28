import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { bootApp, type TestApp } from '../helpers/app';
import { pairedClient, PINS, type Client } from '../helpers/client';
import { testConfig } from '../helpers/config';
import { createTestDb, type TestDb } from '../helpers/pg';
import { counts, seedStore } from '../helpers/store';
import { verifyJournal } from '../../server/journal/verify';

/**
 * The sale core under concurrency and failure, over real HTTP from several paired, logged-in
 * terminals: every change is one transaction that locks the order, so concurrent presses
 * serialise, and a change either is saved and answered as done, or is not saved and answered
 * as refused.
 */
describe('the sale core: concurrent terminals, failures inside a change', function () {
  this.timeout(120_000);
  let t: TestDb;
  let app: TestApp;
  let store: Awaited<ReturnType<typeof seedStore>>;
  let terminals: Client[];

  before(async () => {
    t = await createTestDb({ poolMax: 30 });
    store = await seedStore(t.db);
    app = await bootApp(t.db, { config: testConfig({ RATE_LIMIT_PAIR_PER_MIN: '1000', RATE_LIMIT_LOGIN_PER_MIN: '1000' }) });
    terminals = [];
    for (const [i, pin] of [PINS.owner, PINS.manager, PINS.cashier, PINS.server].entries()) terminals.push(await pairedClient(app, { pin, name: `Till ${i + 1}` }));
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  async function newOrder(c: Client, product = 'Espresso', quantity = 1): Promise<number> {
    const r = await c.post('/orders', { type: 'counter' });
    assert.equal(r.status, 204, r.text);
    const id = Number(/^\/orders\/(\d+)$/.exec(r.headers.get('HX-Redirect') ?? '')![1]);
    const p = await store.product(product);
    const added = await c.post(`/orders/${id}/lines`, { product_id: String(p.id), quantity: String(quantity) });
    assert.equal(added.status, 200, added.text);
    return id;
  }
  /** the message an error partial or problem shows */
  const messageOf = (text: string) => text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();

  it('40 concurrent "+" presses on one 1× line from 4 terminals: each adds one or is refused with a message; the line ends at 1 + the presses done', async () => {
    const id = await newOrder(terminals[0]);
    const line = await t.db('order_lines').where({ order_id: id }).first();
    assert.equal(line.quantity, 1);
    const presses = Array.from({ length: 40 }, (_, i) => terminals[i % 4].post(`/orders/${id}/lines/${line.id}/quantity`, { delta: '1' }));
    const answers = await Promise.all(presses);
    const done = answers.filter((r) => r.status === 200).length;
    for (const r of answers.filter((a) => a.status !== 200)) {
      assert.ok(r.status >= 400 && r.status < 500, `a refusal, not a failure: ${r.status} ${r.text.slice(0, 200)}`);
      assert.ok(messageOf(r.text).length > 0, 'refused with a message');
    }
    const after = await t.db('order_lines').where({ id: line.id }).first();
    assert.equal(after.quantity, 1 + done, `${done} presses answered as done`);
    assert.equal(done, 40, 'none refused: they wait for each other on the order\'s lock');
    const order = await t.db('orders').where({ id }).first();
    const espresso = await store.product('Espresso');
    assert.equal(order.total, 41 * espresso.price, 'the totals follow');
    // and "−" takes one off the line as it is now, whatever the page showed
    const minus = await terminals[1].post(`/orders/${id}/lines/${line.id}/quantity`, { delta: '-1' });
    assert.equal(minus.status, 200, minus.text);
    assert.equal((await t.db('order_lines').where({ id: line.id }).first()).quantity, 40);
  });

  it('the "+" and "−" buttons the line editor draws send a delta, not a quantity', async () => {
    const id = await newOrder(terminals[0]);
    const line = await t.db('order_lines').where({ order_id: id }).first();
    const editor = await terminals[0].get(`/orders/${id}/lines/${line.id}/edit`);
    assert.match(editor.text, /hx-vals='\{"delta": "1", "editor": "1"\}'/);
    assert.match(editor.text, /hx-vals='\{"delta": "-1", "editor": "1"\}'/);
    assert.doesNotMatch(editor.text, /hx-vals='\{"quantity"/);
  });

  it('a form that sets a value carries the version it was drawn from, and is refused with a message when the order moved on', async () => {
    const id = await newOrder(terminals[0]);
    const line = await t.db('order_lines').where({ order_id: id }).first();
    const edit = await terminals[0].get(`/orders/${id}/lines/${line.id}/edit`);
    const drawn = /name="version" value="(\d+)"/.exec(edit.text)?.[1];
    assert.ok(drawn, 'the line editor carries the order\'s version');
    assert.equal(Number(drawn), (await t.db('orders').where({ id }).first()).version);
    // another terminal presses "+" meanwhile
    assert.equal((await terminals[1].post(`/orders/${id}/lines/${line.id}/quantity`, { delta: '1' })).status, 200);
    const stale = await terminals[0].post(`/orders/${id}/lines/${line.id}/quantity`, { quantity: '5', version: drawn! });
    assert.equal(stale.status, 409, stale.text.slice(0, 200));
    assert.match(messageOf(stale.text), /changed on another terminal since this screen was drawn/);
    assert.equal((await t.db('order_lines').where({ id: line.id }).first()).quantity, 2, 'the other terminal\'s press stands');
    const note = await terminals[0].post(`/orders/${id}/lines/${line.id}/note`, { note: 'no sugar', version: drawn! });
    assert.equal(note.status, 409);
    // drawn again, the same edit goes through
    const fresh = /name="version" value="(\d+)"/.exec((await terminals[0].get(`/orders/${id}/lines/${line.id}/edit`)).text)![1];
    assert.equal((await terminals[0].post(`/orders/${id}/lines/${line.id}/quantity`, { quantity: '5', version: fresh })).status, 200);
    assert.equal((await t.db('order_lines').where({ id: line.id }).first()).quantity, 5);
  });

  it('20 concurrent cash tenders for the full amount on one order: one payment, one journal entry, the others a clear refusal', async () => {
    const id = await newOrder(terminals[0], 'Brownie', 2);
    const journalBefore = (await counts(t.db, 'journal')).journal;
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      terminals[i % 4].post(`/orders/${id}/payments`, { tendered: '100', idempotency_key: crypto.randomUUID() })));
    const paid = answers.filter((r) => r.status === 200);
    assert.equal(paid.length, 1, answers.map((r) => r.status).join(','));
    assert.match(paid[0].text, /Change/i);
    for (const r of answers.filter((a) => a.status !== 200)) {
      assert.equal(r.status, 409, r.text.slice(0, 200));
      assert.match(messageOf(r.text), /already paid/);
    }
    assert.equal((await t.db('payments').where({ order_id: id })).length, 1);
    assert.equal((await counts(t.db, 'journal')).journal, journalBefore + 1);
    assert.equal((await t.db('journal').whereRaw("entry->>'order_id' = ?", [String(id)])).length, 1);
    assert.ok((await verifyJournal(t.db)).ok);
  });

  it('the void dialog sent twice with its key (a double tap, a lost answer) voids once and answers both', async () => {
    const id = await newOrder(terminals[0], 'Brownie', 1);
    const dialog = await terminals[1].get(`/orders/${id}/void`);
    const voidKey = /name="idempotency_key" value="([A-Za-z0-9_-]+)"/.exec(dialog.text)![1];
    const journalBefore = (await counts(t.db, 'journal')).journal;
    const [a, b] = await Promise.all([0, 1].map(() => terminals[1].post(`/orders/${id}/void`, { reason: 'customer left', idempotency_key: voidKey })));
    assert.deepEqual([a.status, b.status], [200, 200], `${a.text.slice(0, 200)} ${b.text.slice(0, 200)}`);
    assert.equal((await counts(t.db, 'journal')).journal, journalBefore + 1, 'one void entry');
    const again = await terminals[1].post(`/orders/${id}/void`, { reason: 'customer left', idempotency_key: crypto.randomUUID() });
    assert.equal(again.status, 409, 'another key: a voided order cannot be voided again');
    assert.match(messageOf(again.text), /already voided/);
  });

  it('a statement that fails after the order\'s write in the same change leaves nothing written, and the terminal sees the failure', async () => {
    const id = await newOrder(terminals[0], 'Brownie', 1);
    const before = { order: await t.db('orders').where({ id }).first(), head: await t.db('journal_head').first(), rows: await counts(t.db, 'payments', 'journal', 'webhook_events') };
    // test only: the journal refuses this order's entry, after the payment and the lines are written
    await t.db.raw(`create function test_refuse_entry() returns trigger language plpgsql as $$
      begin
        if new.entry->>'order_id' = '${id}' then raise exception 'test: the journal refuses this entry'; end if;
        return new;
      end $$`);
    await t.db.raw('create trigger test_refuse_entry before insert on journal for each row execute function test_refuse_entry()');
    try {
      const r = await terminals[1].post(`/orders/${id}/payments`, { tendered: '50', idempotency_key: crypto.randomUUID() });
      assert.equal(r.status, 500, r.text.slice(0, 200));
      assert.doesNotMatch(r.text, /the journal refuses/, 'an unexpected error is logged, not shown');
    } finally {
      await t.db.raw('drop trigger test_refuse_entry on journal');
      await t.db.raw('drop function test_refuse_entry()');
    }
    assert.deepEqual(await t.db('orders').where({ id }).first(), before.order, 'the order is unchanged');
    assert.deepEqual(await t.db('journal_head').first(), before.head, 'the chain head did not move');
    assert.deepEqual(await counts(t.db, 'payments', 'journal', 'webhook_events'), before.rows);
    // and the same tender goes through once nothing refuses it
    const ok = await terminals[1].post(`/orders/${id}/payments`, { tendered: '50', idempotency_key: crypto.randomUUID() });
    assert.equal(ok.status, 200, ok.text.slice(0, 200));
    assert.equal((await t.db('orders').where({ id }).first()).status, 'paid');
  });

  it('a change whose COMMIT fails is answered as failed, and nothing of it was saved', async () => {
    const id = await newOrder(terminals[0], 'Brownie', 1);
    const before = { order: await t.db('orders').where({ id }).first(), rows: await counts(t.db, 'payments', 'journal') };
    // test only: checked at COMMIT, after every statement of the change succeeded
    await t.db.raw(`create function test_refuse_at_commit() returns trigger language plpgsql as $$
      begin
        if new.order_id = ${id} then raise exception 'test: refused at commit'; end if;
        return null;
      end $$`);
    await t.db.raw('create constraint trigger test_refuse_at_commit after insert on payments deferrable initially deferred for each row execute function test_refuse_at_commit()');
    try {
      const r = await terminals[2].post(`/orders/${id}/payments`, { tendered: '50', idempotency_key: crypto.randomUUID() });
      assert.equal(r.status, 500, r.text.slice(0, 200));
    } finally {
      await t.db.raw('drop trigger test_refuse_at_commit on payments');
      await t.db.raw('drop function test_refuse_at_commit()');
    }
    assert.deepEqual(await t.db('orders').where({ id }).first(), before.order);
    assert.deepEqual(await counts(t.db, 'payments', 'journal'), before.rows);
  });
});
